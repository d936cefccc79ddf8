// The audit log, newest first, filtered by actor, action and resource.

import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { AuditEntry } from "../api/types";
import { ErrorMessage, Loading, Time } from "../components/common";

interface Filters {
  actor: string;
  action: string;
  resource: string;
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>({ actor: "", action: "", resource: "" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setEntries(null);
    api.listAudit({ ...filters, limit: 100 }).then(
      (p) => {
        setEntries(p.items);
        setCursor(p.next_cursor);
        setError(null);
      },
      setError,
    );
  }, [filters]);

  const more = async () => {
    if (!cursor) return;
    try {
      const p = await api.listAudit({ ...filters, limit: 100, cursor });
      setEntries((old) => [...(old ?? []), ...p.items]);
      setCursor(p.next_cursor);
    } catch (e) {
      setError(e);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const field = (key: keyof Filters, label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`a-${key}`}>{label}</label>
      <input id={`a-${key}`} value={draft[key]} placeholder={placeholder} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
    </div>
  );

  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
        {field("actor", "Actor", "user name")}
        {field("action", "Action", "workflow.* or run.start")}
        {field("resource", "Resource", "workflow:name*")}
        <div className="field buttons">
          <button type="submit">Apply filters</button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {entries === null && !error && <Loading what="the audit log" />}
      {entries && (
        <table className="table" aria-label="Audit entries">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col">Details</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td>
                  <Time iso={e.at} />
                </td>
                <td>{e.actor}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className="mono small">{e.resource}</td>
                <td className="mono small details">{Object.keys(e.details).length ? JSON.stringify(e.details) : ""}</td>
                <td className="small">{e.source ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={more}>
          Load more entries
        </button>
      )}
    </>
  );
}
