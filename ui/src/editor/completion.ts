// Schema-aware completion for the YAML editor: keys from the definition's JSON
// Schema (steps, kinds, inputs, triggers), action types from `GET /api/v1/actions`,
// an action's parameters from its input schema, step ids where ids go.

import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import { api } from "../api/client";
import type { JsonSchema } from "../api/types";
import { contextAt, lineInfo, mappingAt, SEQ, type CursorContext } from "./context";
import { isBlock, keyOptions, schemaAt, valueOptions } from "./schema";

const ID_KEYS = new Set(["next", "then", "else", "default", "start", "on_error"]);

const actionSchemas = new Map<string, Promise<JsonSchema | null>>();
function actionInput(type: string): Promise<JsonSchema | null> {
  if (!actionSchemas.has(type)) {
    actionSchemas.set(
      type,
      api.getAction(type).then(
        (a) => a.input_schema,
        () => null,
      ),
    );
  }
  return actionSchemas.get(type)!;
}

async function actionTypes(prefix: string): Promise<Completion[]> {
  const page = await api.listActions({ q: prefix || undefined, limit: 100 });
  return page.items.map((a) => ({
    label: a.type,
    type: "function",
    detail: a.group,
    info: a.title + (a.connection_type ? ` (connection: ${a.connection_type})` : ""),
  }));
}

function stepIds(doc: string): string[] {
  const out = new Set<string>();
  for (const m of doc.matchAll(/^\s*(?:-\s+)?id:\s*["']?([A-Za-z_][A-Za-z0-9_]*)/gm)) out.add(m[1]);
  return [...out];
}

/** The `action:` of the step whose `with:` block the cursor is in, if it is in one. */
function actionOfWith(lines: string[], ctx: CursorContext): string | undefined {
  const n = ctx.path.length;
  if (n < 2 || ctx.path[n - 1] !== "with" || ctx.path[n - 2] !== SEQ) return undefined;
  const item = ctx.levels[n - 2];
  const col = lineInfo(lines[item.line]).col;
  return mappingAt(lines, item.line, col).get("action")?.replace(/^["']|["']$/g, "");
}

function keyCompletion(key: string, info: string, required: boolean, block: boolean): Completion {
  return {
    label: key,
    type: "property",
    detail: required ? "required" : undefined,
    info: info || undefined,
    apply: block ? `${key}:\n` : `${key}: `,
    boost: key === "id" ? 10 : required ? 5 : 0,
  };
}

export async function completeYaml(cm: CompletionContext): Promise<CompletionResult | null> {
  const doc = cm.state.doc.toString();
  const ctx = contextAt(doc, cm.pos);
  const from = cm.pos - ctx.prefix.length;
  if (!cm.explicit && ctx.prefix === "" && ctx.mode === "key") {
    const line = cm.state.doc.lineAt(cm.pos);
    if (!/-\s*$/.test(doc.slice(line.from, cm.pos))) return null;
  }
  const lines = doc.split("\n");
  const here = schemaAt(ctx.path);

  if (ctx.mode === "key") {
    const action = actionOfWith(lines, ctx);
    if (action) {
      const input = await actionInput(action);
      const opts = input ? keyOptions([input], ctx.siblings.keys()) : [];
      return { from, options: opts.map((o) => keyCompletion(o.key, o.info, o.required, false)) };
    }
    const opts = keyOptions(here, ctx.siblings.keys());
    if (!opts.length) return null;
    return {
      from,
      options: opts.map((o) => keyCompletion(o.key, o.info, o.required, isBlock(here, o.key))),
      validFor: /^[\w-]*$/,
    };
  }

  const key = ctx.key!;
  if (key === "action" && ctx.path.at(-1) === SEQ) {
    return { from, options: await actionTypes(ctx.prefix), validFor: /^[\w.-]*$/ };
  }
  const parent = ctx.path.at(-1);
  if (ID_KEYS.has(key) || parent === "cases" || parent === "on") {
    const options: Completion[] = stepIds(doc).map((id) => ({ label: id, type: "variable" }));
    if (key === "on_error") options.push({ label: "continue", type: "keyword" });
    return { from, options };
  }
  const values = valueOptions(schemaAt([key], { anyOf: here }));
  if (!values.length) return null;
  return { from, options: values.map((v) => ({ label: v, type: "constant" })) };
}
