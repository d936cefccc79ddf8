// Runs, newest first, filtered by workflow, status, trigger and time (kept in the URL).

import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { RunFilters, RunSummary } from "../api/types";
import { ErrorMessage, Loading } from "../components/common";
import { RunsTable } from "../run/RunsTable";

const STATUSES = ["running", "waiting", "succeeded", "failed", "cancelled", "timed_out"];
const TRIGGERS = ["manual", "schedule", "webhook", "monitor", "security_signal", "call"];
const KEYS: (keyof RunFilters)[] = ["workflow", "status", "trigger", "since", "until"];

/** `datetime-local` (local time) to RFC 3339 and back. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocal = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const filters: RunFilters = Object.fromEntries(KEYS.map((k) => [k, params.get(k) ?? ""]));
  const [draft, setDraft] = useState<RunFilters>(filters);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [workflows, setWorkflows] = useState<string[]>([]);
  const key = params.toString();

  useEffect(() => {
    api.listWorkflows({ limit: 500 }).then((p) => setWorkflows(p.items.map((w) => w.name)), () => {});
  }, []);
  useEffect(() => {
    setRuns(null);
    setError(null);
    setDraft(filters);
    api.listRuns({ ...filters, limit: 50 }).then(
      (page) => {
        setRuns(page.items);
        setCursor(page.next_cursor);
      },
      setError,
    );
    // `key` is the filters' identity.
  }, [key]);

  const more = async () => {
    if (!cursor) return;
    try {
      const page = await api.listRuns({ ...filters, limit: 50, cursor });
      setRuns((old) => [...(old ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    }
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const k of KEYS) if (draft[k]) next.set(k, draft[k]!);
    setParams(next);
  };
  const set = (k: keyof RunFilters, v: string) => setDraft((d) => ({ ...d, [k]: v }));

  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
      </div>
      <form className="filters" onSubmit={apply} aria-label="Filter runs">
        <div className="field">
          <label htmlFor="f-workflow">Workflow</label>
          <select id="f-workflow" value={draft.workflow ?? ""} onChange={(e) => set("workflow", e.target.value)}>
            <option value="">any</option>
            {workflows.map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={draft.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
            <option value="failed,timed_out,cancelled">not succeeded (ended)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-trigger">Trigger</label>
          <select id="f-trigger" value={draft.trigger ?? ""} onChange={(e) => set("trigger", e.target.value)}>
            <option value="">any</option>
            {TRIGGERS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-since">Started after</label>
          <input id="f-since" type="datetime-local" value={toLocal(draft.since ?? "")} onChange={(e) => set("since", toIso(e.target.value))} />
        </div>
        <div className="field">
          <label htmlFor="f-until">Started before</label>
          <input id="f-until" type="datetime-local" value={toLocal(draft.until ?? "")} onChange={(e) => set("until", toIso(e.target.value))} />
        </div>
        <div className="field buttons">
          <button type="submit">Apply filters</button>
          <button type="button" onClick={() => setParams(new URLSearchParams())}>
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {runs === null && !error && <Loading what="runs" />}
      {runs && <RunsTable runs={runs} label="Runs" />}
      {cursor && (
        <button type="button" onClick={more}>
          Load more runs
        </button>
      )}
    </>
  );
}
