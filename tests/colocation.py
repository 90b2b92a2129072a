"""Reads a SQL statement (with PostgreSQL's own parser, through pglast) and says where it breaks
the distribution rule of tests/test_distributable.py.

A statement is cut into levels: each SELECT, UPDATE, DELETE or INSERT, with those nested in it
(subqueries, CTEs, lateral joins) as children that see their parents' relations. Each level
knows the relations of its FROM (a distributed table, or anything else: a CTE, an unnest of
parameters, a subquery) and the equalities its WHERE and JOIN ... ON conditions are made of
(the top-level AND terms). An equality on a distributed table's workspace_id either joins it to
another distributed table's workspace_id, or binds it to a value: a parameter, a constant, or a
column of a relation that is not a distributed table (rows the query was given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from pglast.stream import RawStream

COLUMN = "workspace_id"


@dataclass(eq=False)
class Ref:
    """One mention of a distributed table in a statement."""

    table: str
    alias: str

    def __str__(self) -> str:
        return self.table if self.alias == self.table else f"{self.table} {self.alias}"


@dataclass(eq=False)
class Level:
    parent: Level | None
    relations: dict[str, Ref | None] = field(default_factory=dict)  # alias -> Ref, or None
    ctes: set[str] = field(default_factory=set)
    equalities: list[tuple[ast.Node, ast.Node]] = field(default_factory=list)
    conditions: list[ast.Node] = field(default_factory=list)

    def find(self, alias: str) -> tuple[bool, Ref | None]:
        level: Level | None = self
        while level is not None:
            if alias in level.relations:
                return True, level.relations[alias]
            level = level.parent
        return False, None

    def is_cte(self, name: str) -> bool:
        level: Level | None = self
        while level is not None:
            if name in level.ctes:
                return True
            level = level.parent
        return False


class Statement:
    """What one statement does with the distributed tables."""

    def __init__(self, sql: str, distributed: frozenset[str]) -> None:
        self.distributed = distributed
        self.refs: list[Ref] = []
        self.columns: list[tuple[Level, ast.ColumnRef]] = []
        self.levels: list[Level] = []
        self.problems: list[str] = []
        for raw in parse_sql(sql):
            self._visit(raw.stmt, None)

    # --- reading the tree ---------------------------------------------------------------

    def _visit(self, node: object, level: Level | None) -> None:
        if isinstance(node, tuple | list):
            for item in node:
                self._visit(item, level)
        elif isinstance(node, ast.SelectStmt | ast.UpdateStmt | ast.DeleteStmt | ast.InsertStmt):
            self._statement(node, level)
        elif isinstance(node, ast.ColumnRef) and level is not None:
            self.columns.append((level, node))
        elif isinstance(node, ast.Node):
            for name in type(node).__slots__:
                self._visit(getattr(node, name), level)

    def _statement(self, node: ast.Node, parent: Level | None) -> None:
        level = Level(parent)
        self.levels.append(level)
        if node.withClause is not None:
            level.ctes |= {cte.ctename for cte in node.withClause.ctes}
            for cte in node.withClause.ctes:
                self._visit(cte.ctequery, level)
        if isinstance(node, ast.InsertStmt):
            self._insert(node, level)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            self._relation(node.relation, level)
        for clause in ("fromClause", "usingClause"):
            for item in getattr(node, clause, None) or ():
                self._from_item(item, level)
        if getattr(node, "whereClause", None) is not None:
            self._condition(node.whereClause, level)
        skip = {"withClause", "fromClause", "usingClause", "whereClause", "relation"}
        for name in type(node).__slots__:
            if name not in skip:
                self._visit(getattr(node, name), level)

    def _insert(self, node: ast.InsertStmt, level: Level) -> None:
        table = node.relation.relname
        if table not in self.distributed:
            return
        if COLUMN not in {target.name for target in node.cols or ()}:
            self.problems.append(f"insert into {table} does not set {COLUMN}")
        infer = node.onConflictClause.infer if node.onConflictClause else None
        if infer is not None and COLUMN not in {e.name for e in infer.indexElems or ()}:
            self.problems.append(f"insert into {table}: on conflict target lacks {COLUMN}")

    def _relation(self, node: ast.RangeVar, level: Level) -> None:
        alias = node.alias.aliasname if node.alias else node.relname
        distributed = node.relname in self.distributed and not level.is_cte(node.relname)
        ref = Ref(node.relname, alias) if distributed else None
        level.relations[alias] = ref
        if ref is not None:
            self.refs.append(ref)

    def _from_item(self, node: ast.Node, level: Level) -> None:
        if isinstance(node, ast.RangeVar):
            self._relation(node, level)
        elif isinstance(node, ast.JoinExpr):
            self._from_item(node.larg, level)
            self._from_item(node.rarg, level)
            if node.quals is not None:
                self._condition(node.quals, level)
        elif isinstance(node, ast.RangeSubselect | ast.RangeFunction):
            if node.alias is not None:
                level.relations[node.alias.aliasname] = None
            self._visit(node.subquery if isinstance(node, ast.RangeSubselect)
                        else node.functions, level)

    def _condition(self, node: ast.Node, level: Level) -> None:
        if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
            for term in node.args:
                self._condition(term, level)
            return
        level.conditions.append(node)
        if (isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP
                and [n.sval for n in node.name] == ["="]):
            level.equalities.append((node.lexpr, node.rexpr))
        self._visit(node, level)

    # --- what a column names ------------------------------------------------------------

    def _resolve(self, level: Level, column: ast.ColumnRef) -> tuple[Ref | None, str | None]:
        names = [getattr(part, "sval", "*") for part in column.fields]
        if len(names) == 2:
            return level.find(names[0])[1], names[1]
        here: Level | None = level
        while here is not None:  # an unqualified column: the one distributed table in reach
            refs = [ref for ref in here.relations.values() if ref is not None]
            if len(here.relations) == 1 or len(refs) == 1:
                return (refs[0] if refs else None), names[-1]
            here = here.parent
        return None, names[-1]

    def _refs_in(self, node: ast.Node, level: Level) -> set[Ref]:
        found: list[ast.ColumnRef] = []
        _collect(node, found)
        return {ref for ref in (self._resolve(level, c)[0] for c in found) if ref is not None}

    def _partition(self, level: Level, node: ast.Node) -> Ref | None:
        if isinstance(node, ast.ColumnRef):
            ref, name = self._resolve(level, node)
            if name == COLUMN:
                return ref
        return None

    # --- the rule -----------------------------------------------------------------------

    def check(self, across_workspaces: bool, counts: bool = False) -> list[str]:
        """Problems with this statement: co-location always; for a statement of one workspace
        every distributed table bound to a value, for one across workspaces every distributed
        table's workspace_id at least named, unless it only counts rows (`counts`)."""
        groups = _Groups(self.refs)
        bound: set[Ref] = set()
        for level in self.levels:
            for left, right in level.equalities:
                a, b = self._partition(level, left), self._partition(level, right)
                if a is not None and b is not None:
                    groups.join(a, b)
                for ref, value in ((a, right), (b, left)):
                    if ref is not None and not self._refs_in(value, level):
                        bound.add(ref)
                        groups.join(ref, RawStream()(value))  # the same value: together
        problems = list(self.problems)
        for level in self.levels:
            related = [self._refs_in(condition, level) for condition in level.conditions]
            related.append({ref for ref in level.relations.values() if ref is not None})
            for together in related:
                for a, b in combinations(sorted(together, key=str), 2):
                    if not groups.same(a, b):
                        problems.append(f"{a} and {b} are joined without {COLUMN} equality")
        if across_workspaces and not counts:
            named = {self._resolve(level, c)[0] for level, c in self.columns
                     if self._resolve(level, c)[1] == COLUMN}
            problems += [f"{ref} never names {COLUMN}" for ref in self.refs if ref not in named]
        elif not across_workspaces:
            problems += [f"{ref}: {COLUMN} is not bound to a value"
                         for ref in self.refs if not any(groups.same(ref, b) for b in bound)]
        return list(dict.fromkeys(problems))


def _collect(node: object, found: list[ast.ColumnRef]) -> None:
    if isinstance(node, tuple | list):
        for item in node:
            _collect(item, found)
    elif isinstance(node, ast.ColumnRef):
        found.append(node)
    elif isinstance(node, ast.Node):
        for name in type(node).__slots__:
            _collect(getattr(node, name), found)


class _Groups:
    """Union-find over table mentions (and the values they are bound to)."""

    def __init__(self, refs: list[Ref]) -> None:
        self.parent: dict[object, object] = {ref: ref for ref in refs}

    def _root(self, item: object) -> object:
        self.parent.setdefault(item, item)
        while self.parent[item] is not item:
            item = self.parent[item]
        return item

    def join(self, a: object, b: object) -> None:
        self.parent[self._root(a)] = self._root(b)

    def same(self, a: object, b: object) -> bool:
        return self._root(a) is self._root(b)


def problems(sql: str, distributed: frozenset[str], *, across_workspaces: bool = False,
             counts: bool = False) -> list[str]:
    """Where `sql` breaks the rule (empty when it keeps it)."""
    return Statement(sql, distributed).check(across_workspaces, counts)
