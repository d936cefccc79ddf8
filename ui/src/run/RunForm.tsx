// A run form generated from the workflow's input declarations.

import { useMemo, useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { InputSpec, Run } from "../api/types";
import { describeError, ErrorMessage } from "../components/common";

interface Props {
  workflow: string;
  inputs: Record<string, InputSpec> | undefined;
  /** The version the run uses (undefined: the published one, else the latest). */
  version?: number;
  onStarted: (run: Run) => void;
}

type Values = Record<string, string | boolean>;

function initial(spec: InputSpec): string | boolean {
  const type = spec.type ?? "string";
  if (type === "boolean") return spec.default === true;
  if (spec.default === undefined || spec.default === null) return "";
  if (type === "object" || type === "array") return JSON.stringify(spec.default, null, 2);
  return String(spec.default);
}

/** The value to send for one field; throws a message when it cannot be read. */
function convert(spec: InputSpec, raw: string | boolean): unknown {
  const type = spec.type ?? "string";
  if (type === "boolean") return raw === true;
  const text = String(raw);
  if (text.trim() === "") return undefined;
  if (type === "integer" || type === "number") {
    const n = Number(text);
    if (Number.isNaN(n) || (type === "integer" && !Number.isInteger(n))) throw new Error(`not ${type === "integer" ? "an integer" : "a number"}`);
    return n;
  }
  if (type === "object" || type === "array") {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error("not valid JSON");
    }
  }
  if (spec.enum?.length) return spec.enum.find((e) => String(e) === text) ?? text;
  return text;
}

export function RunForm({ workflow, inputs, version, onStarted }: Props) {
  const fields = useMemo(() => Object.entries(inputs ?? {}), [inputs]);
  const [values, setValues] = useState<Values>(() => Object.fromEntries(fields.map(([k, s]) => [k, initial(s ?? {})])));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const out: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    for (const [key, spec] of fields) {
      try {
        const v = convert(spec ?? {}, values[key] ?? "");
        if (v !== undefined) out[key] = v;
      } catch (err) {
        errors[key] = (err as Error).message;
      }
    }
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;
    setBusy(true);
    setError(null);
    try {
      onStarted(await api.startRun(workflow, out, version));
    } catch (err) {
      const { problems } = describeError(err);
      const byField: Record<string, string> = {};
      for (const p of problems) {
        const key = fields.map(([k]) => k).find((k) => p.location === k || p.location.endsWith(`.${k}`) || p.location.endsWith(`[${k}]`));
        if (key) byField[key] = p.message;
      }
      setFieldErrors(byField);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="run-form" onSubmit={submit} aria-label={`Run ${workflow}`}>
      {fields.length === 0 && <p className="muted">This workflow declares no inputs.</p>}
      {fields.map(([key, spec]) => {
        const s = spec ?? {};
        const type = s.type ?? "string";
        const id = `input-${key}`;
        const describedBy = fieldErrors[key] ? `${id}-error` : s.description ? `${id}-help` : undefined;
        const set = (v: string | boolean) => setValues((old) => ({ ...old, [key]: v }));
        let control;
        if (type === "boolean") {
          control = <input id={id} type="checkbox" checked={values[key] === true} onChange={(e) => set(e.target.checked)} aria-describedby={describedBy} />;
        } else if (s.enum?.length) {
          control = (
            <select id={id} value={String(values[key] ?? "")} onChange={(e) => set(e.target.value)} required={s.required} aria-describedby={describedBy}>
              {!s.required && <option value="">(none)</option>}
              {s.enum.map((v) => (
                <option key={String(v)} value={String(v)}>
                  {String(v)}
                </option>
              ))}
            </select>
          );
        } else if (type === "object" || type === "array") {
          control = (
            <textarea id={id} rows={4} value={String(values[key] ?? "")} onChange={(e) => set(e.target.value)} required={s.required} placeholder={type === "array" ? "[ ]" : "{ }"} aria-describedby={describedBy} />
          );
        } else {
          control = (
            <input
              id={id}
              type={type === "integer" || type === "number" ? "number" : "text"}
              step={type === "number" ? "any" : undefined}
              value={String(values[key] ?? "")}
              onChange={(e) => set(e.target.value)}
              required={s.required}
              aria-describedby={describedBy}
            />
          );
        }
        return (
          <div className={`field${type === "boolean" ? " inline" : ""}`} key={key}>
            <label htmlFor={id}>
              {key}
              {s.required && <span aria-hidden="true"> *</span>} <span className="muted small">{type}{s.items ? ` of ${s.items}` : ""}</span>
            </label>
            {control}
            {s.description && !fieldErrors[key] && (
              <p className="hint" id={`${id}-help`}>
                {s.description}
              </p>
            )}
            {fieldErrors[key] && (
              <p className="field-error" id={`${id}-error`} role="alert">
                {fieldErrors[key]}
              </p>
            )}
          </div>
        );
      })}
      <button type="submit" disabled={busy}>
        Start run
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
