#!/usr/bin/env node
// Generates src/types.ts from the API's OpenAPI document, in the SDK's camelCase.
//
//   node scripts/generate-types.mjs                    the document the app in this repository builds
//   node scripts/generate-types.mjs --url http://127.0.0.1:8000/api/v1/openapi.json
//   node scripts/generate-types.mjs --input openapi.json   (or - for stdin)
//   node scripts/generate-types.mjs --check            exit 1 when src/types.ts is stale
//
// Every schema an answer carries becomes an interface; every request body becomes a Params
// interface; every list operation's query parameters become a List…Params interface (ranges such
// as created[gte] grouped into `created: { gte }`); the error registry becomes ERROR_CODES; the
// fields holding user-supplied maps (metadata) become MAP_FIELDS, whose keys the SDK never
// converts. The repository's tests regenerate the file and compare, so a field the API gains
// and the SDK lacks fails the build. It shares the design of sdk/python/scripts/generate_types.py.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SDK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const TARGET = join(SDK_ROOT, "src", "types.ts");
const REPOSITORY = resolve(SDK_ROOT, "..", "..");
const REF_PREFIX = "#/components/schemas/";
const HTTP_METHODS = ["get", "post", "patch", "delete", "put"];
const RANGE = /^(\w+)\[(gt|gte|lt|lte)\]$/;

const HEADER = `// Typed objects of the Pivotal API, named as the SDK names them (camelCase). Generated from the
// API's OpenAPI document by scripts/generate-types.mjs: do not edit by hand, run the script.
`;

export const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase());
const refName = (ref) => ref.slice(REF_PREFIX.length);
const literal = (value) => JSON.stringify(value);

function walkRefs(node, found) {
  if (Array.isArray(node)) {
    for (const item of node) walkRefs(item, found);
  } else if (node && typeof node === "object") {
    if (typeof node.$ref === "string" && node.$ref.startsWith(REF_PREFIX)) found.add(refName(node.$ref));
    for (const value of Object.values(node)) walkRefs(value, found);
  }
}

function closure(names, schemas) {
  const seen = new Set();
  const todo = [...names];
  while (todo.length) {
    const name = todo.pop();
    if (seen.has(name) || !(name in schemas)) continue;
    seen.add(name);
    const found = new Set();
    walkRefs(schemas[name], found);
    todo.push(...[...found].filter((n) => !seen.has(n)));
  }
  return seen;
}

function* operations(document) {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) yield [path, method, item[method]];
  }
}

const isInterface = (schema) => schema.type === "object" && schema.properties !== undefined;
// an object of the caller's own keys (metadata): the SDK passes its keys through untouched
const isUserMap = (schema) =>
  schema.type === "object" && !schema.properties &&
  typeof schema.additionalProperties === "object" && schema.additionalProperties !== null;

function union(parts) {
  const unique = [...new Set(parts.flatMap((part) => part.split(" | ")))];
  // `unknown` absorbs everything else in a union
  return unique.includes("unknown") ? "unknown" : unique.join(" | ");
}

const arrayOf = (item) => (item.includes(" ") ? `Array<${item}>` : `${item}[]`);

class Generator {
  constructor(document) {
    this.document = document;
    this.schemas = document.components.schemas;
    const request = new Set();
    const response = new Set();
    for (const [, , operation] of operations(document)) {
      walkRefs(operation.requestBody ?? {}, request);
      for (const [status, answer] of Object.entries(operation.responses ?? {})) {
        if (status.startsWith("2")) walkRefs(answer.content ?? {}, response);
      }
    }
    // errors are described by allOf components; their envelope is an answer too
    for (const [name, schema] of Object.entries(this.schemas)) {
      if (name.startsWith("Error") && !schema.allOf) response.add(name);
    }
    this.request = closure(request, this.schemas);
    this.response = closure(response, this.schemas);
    this.interfaces = [];
    this.defined = new Set();
    this.userMaps = new Set();
    this.dates = new Set();
  }

  // ---- types ---------------------------------------------------------------------------

  type(schema, hint, params) {
    if (schema.$ref) {
      const name = refName(schema.$ref);
      if (params && this.request.has(name) && !this.response.has(name)) return `${name}Params`;
      this.define(name, this.schemas[name]);
      return name;
    }
    for (const combinator of ["anyOf", "oneOf"]) {
      if (schema[combinator]) return union(schema[combinator].map((s) => this.type(s, hint, params)));
    }
    if ("const" in schema) return literal(schema.const);
    if (schema.enum) {
      // answers are not narrowed to the enum: a value a newer server adds must still type-check
      if (!params) return typeof schema.enum[0] === "number" ? "number" : "string";
      return schema.enum.map(literal).join(" | ");
    }
    if (Array.isArray(schema.type)) {
      return union(schema.type.map((kind) => this.type({ ...schema, type: kind }, hint, params)));
    }
    return this.typed(schema, hint, params);
  }

  typed(schema, hint, params) {
    const simple = { integer: "number", number: "number", boolean: "boolean", null: "null" };
    if (schema.type in simple) return simple[schema.type];
    if (schema.type === "string") {
      const dated = schema.format === "date" || schema.format === "date-time";
      return dated && params ? "string | Date" : "string";
    }
    if (schema.type === "array") return arrayOf(this.type(schema.items ?? {}, hint, params));
    if (isInterface(schema) && !params) {
      this.define(hint, schema);
      return hint;
    }
    if (schema.type === "object" && typeof schema.additionalProperties === "object") {
      return `Record<string, ${this.type(schema.additionalProperties, hint, params)}>`;
    }
    return schema.type === "object" ? "Record<string, unknown>" : "unknown";
  }

  property(name, schema, hint, params, required) {
    if (isUserMap(schema)) this.userMaps.add(name);
    if (this.isDate(schema)) this.dates.add(name);
    const kind = this.type(schema, hint + pascal(name), params);
    const doc = schema.description ? `  /** ${schema.description} */\n` : "";
    if (required) return `${doc}  ${camel(name)}: ${kind};`;
    if (params || "default" in schema) return `${doc}  ${camel(name)}?: ${kind};`;
    // an answer that leaves the field out means the same as null
    return `${doc}  ${camel(name)}?: ${union([kind, "null"])};`;
  }

  isDate(schema) {
    const parts = schema.anyOf ?? schema.oneOf ?? [schema];
    return parts.some((part) => part.type === "string" && part.format === "date");
  }

  // ---- declarations --------------------------------------------------------------------

  define(name, schema) {
    if (this.defined.has(name) || !isInterface(schema)) return;
    this.defined.add(name);
    const required = new Set(schema.required ?? []);
    const lines = [];
    const doc = schema.description ?? schema.title;
    if (doc && doc !== name) lines.push(`/** ${doc} */`);
    lines.push(`export interface ${name} {`);
    for (const [field, spec] of Object.entries(schema.properties)) {
      lines.push(this.property(field, spec, name, false, required.has(field)));
    }
    lines.push("}");
    this.interfaces.push(lines.join("\n"));
  }

  params(name, schema) {
    const required = new Set(schema.required ?? []);
    const lines = [`export interface ${name}Params {`];
    for (const [field, spec] of Object.entries(schema.properties ?? {})) {
      lines.push(this.property(field, spec, name, true, required.has(field)));
    }
    lines.push("}");
    return lines.join("\n");
  }

  listParams() {
    const declarations = [];
    for (const [, method, operation] of operations(this.document)) {
      const parameters = operation.parameters ?? [];
      if (method !== "get" || !parameters.some((p) => p.name === "cursor")) continue;
      const lines = [`export interface ${pascal(operation.operationId)}Params {`];
      const ranges = new Map();
      for (const parameter of parameters) {
        if (parameter.in !== "query") continue;
        const schema = parameter.schema ?? {};
        const range = RANGE.exec(parameter.name);
        if (range) {
          ranges.set(range[1], [...(ranges.get(range[1]) ?? []), range[2]]);
          if (schema.format === "date") this.dates.add(range[1]);
          continue;
        }
        lines.push(`  ${camel(parameter.name)}?: ${this.queryType(parameter, schema)};`);
      }
      for (const [name, operators] of ranges) {
        const schema = parameters.find((p) => p.name === `${name}[${operators[0]}]`).schema;
        lines.push(`  /** ${name}[${operators.join("|")}] */`);
        lines.push(`  ${camel(name)}?: { ${operators.map((op) => `${op}?: ${this.type(schema, "", true)}`).join("; ")} };`);
      }
      lines.push("}");
      declarations.push(lines.join("\n"));
    }
    return declarations;
  }

  queryType(parameter, schema) {
    if (parameter.name === "expand") {
      // expand names fields, and fields are camelCase on this side
      return arrayOf(schema.items.enum.map((value) => literal(camel(value))).join(" | "));
    }
    if (schema.type === "array") {
      // status=active,paused: one value or several
      const item = this.type(schema.items, "", true);
      return `${item} | ${arrayOf(item)}`;
    }
    if (schema.type === "integer") return "number";
    return this.type(schema, "", true);
  }

  errorCodes() {
    const rows = [];
    for (const [name, schema] of Object.entries(this.schemas)) {
      if (!/^Error\d+$/.test(name)) continue;
      const error = schema.allOf[1].properties.error.properties;
      for (const code of error.code.enum) {
        rows.push(`  ${code}: [${Number(name.slice(5))}, ${literal(error.type.const)}],`);
      }
    }
    return `export const ERROR_CODES = {\n${rows.join("\n")}\n} as const satisfies Record<string, readonly [number, string]>;`;
  }

  render() {
    const params = Object.keys(this.schemas)
      .filter((name) => this.request.has(name) && !this.response.has(name))
      .map((name) => this.params(name, this.schemas[name]));
    for (const name of Object.keys(this.schemas)) {
      if (this.response.has(name)) this.define(name, this.schemas[name]);
    }
    const lists = this.listParams();
    const sections = [
      "// ---- objects the API answers with " + "-".repeat(58),
      ...this.interfaces,
      "// ---- request bodies: create and update parameters " + "-".repeat(41),
      ...params,
      "// ---- list parameters " + "-".repeat(71),
      ...lists,
      "// ---- how values cross the wire " + "-".repeat(60),
      "/** Fields holding the caller's own keys: never converted between camelCase and snake_case. */\n" +
        `export const MAP_FIELDS: readonly string[] = ${literal([...this.userMaps].sort())};`,
      "/** Fields and filters holding a date without a time: a Date passed there is sent as YYYY-MM-DD. */\n" +
        `export const DATE_FIELDS: readonly string[] = ${literal([...this.dates].sort())};`,
      "// ---- every error code the API answers with: [status, type] " + "-".repeat(33),
      this.errorCodes(),
    ];
    return HEADER + "\n" + sections.join("\n\n") + "\n";
  }
}

export function generate(document) {
  return new Generator(document).render();
}

async function loadDocument({ url, input }) {
  if (url) {
    const answer = await fetch(url);
    if (!answer.ok) throw new Error(`${url} answered ${answer.status}`);
    return answer.json();
  }
  if (input) return JSON.parse(readFileSync(input === "-" ? 0 : input, "utf8"));
  // from the repository: the document the app serves, built the same way
  const venv = join(REPOSITORY, ".venv", "bin", "python");
  const python = existsSync(venv) ? venv : "python3";
  const build = "import json; from app.main import RESOURCES; from app.openapi.document import " +
    "build_document; print(json.dumps(build_document(RESOURCES)))";
  return JSON.parse(execFileSync(python, ["-c", build], { cwd: REPOSITORY, encoding: "utf8" }));
}

function parseArguments(argv) {
  const options = { output: TARGET, check: false };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (name === "--check") options.check = true;
    else if (["--url", "--input", "--output"].includes(name)) options[name.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${name}: see the top of ${fileURLToPath(import.meta.url)}`);
  }
  return options;
}

async function main(argv) {
  const options = parseArguments(argv);
  const source = generate(await loadDocument(options));
  if (options.check) {
    const current = existsSync(options.output) ? readFileSync(options.output, "utf8") : "";
    if (current !== source) {
      console.error(`${options.output} is stale: run scripts/generate-types.mjs`);
      return 1;
    }
    return 0;
  }
  writeFileSync(options.output, source);
  console.log(`wrote ${options.output}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
