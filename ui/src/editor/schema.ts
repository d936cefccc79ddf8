// Walking the definition's JSON Schema (schema/workflow.schema.json, bundled at
// build time) along a path of keys: which keys and values fit where.

import workflowSchema from "../../../schema/workflow.schema.json";
import type { JsonSchema } from "../api/types";
import { SEQ } from "./context";

export const ROOT = workflowSchema as unknown as JsonSchema;

function deref(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) {
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    s = root.$defs?.[name] ?? {};
  }
  return s;
}

/** The schema and its alternatives (anyOf/oneOf/allOf), flattened, `null` left out. */
export function branches(schema: JsonSchema | undefined, root: JsonSchema = ROOT): JsonSchema[] {
  if (!schema) return [];
  const s = deref(schema, root);
  const alternatives = s.anyOf ?? s.oneOf ?? s.allOf;
  if (alternatives) return alternatives.flatMap((a) => branches(a, root));
  if (s.type === "null") return [];
  return [s];
}

/** The schemas that `path` (keys and SEQ) leads to from `schema`. */
export function schemaAt(path: string[], schema: JsonSchema = ROOT, root: JsonSchema = ROOT): JsonSchema[] {
  let current = branches(schema, root);
  for (const part of path) {
    const next: JsonSchema[] = [];
    for (const s of current) {
      if (part === SEQ) {
        if (s.items) next.push(...branches(s.items, root));
      } else if (s.properties?.[part]) {
        next.push(...branches(s.properties[part], root));
      } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
        next.push(...branches(s.additionalProperties, root));
      }
    }
    current = next;
  }
  return current;
}

/** Only the alternatives that allow every key already written (picks a step's kind). */
export function fitting(schemas: JsonSchema[], present: Iterable<string>): JsonSchema[] {
  const keys = [...present];
  const fit = schemas.filter(
    (s) => s.additionalProperties !== false || keys.every((k) => s.properties && k in s.properties),
  );
  return fit.length ? fit : schemas;
}

export interface KeyOption {
  key: string;
  info: string;
  required: boolean;
}

export function keyOptions(schemas: JsonSchema[], present: Iterable<string>): KeyOption[] {
  const seen = new Map<string, KeyOption>();
  const have = new Set(present);
  for (const s of fitting(schemas, have)) {
    const required = new Set(s.required ?? []);
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      if (have.has(key) || seen.has(key)) continue;
      const p = branches(prop)[0] ?? prop;
      seen.set(key, { key, info: prop.description ?? p.description ?? prop.title ?? "", required: required.has(key) });
    }
  }
  return [...seen.values()];
}

export function valueOptions(schemas: JsonSchema[]): string[] {
  const out = new Set<string>();
  for (const s of schemas) {
    for (const v of s.enum ?? []) out.add(String(v));
    if (s.type === "boolean") {
      out.add("true");
      out.add("false");
    }
  }
  return [...out];
}

/** True when `key` holds a block (mapping or list) rather than a scalar. */
export function isBlock(schemas: JsonSchema[], key: string): boolean {
  const child = schemaAt([key], { anyOf: schemas });
  return child.length > 0 && child.every((s) => s.type === "object" || s.type === "array" || !!s.properties);
}
