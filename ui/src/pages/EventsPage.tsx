// Ingested events: the runs each started, and for every workflow, why it did
// or did not match.

import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import type { EventRecord } from "../api/types";
import { ErrorMessage, Json, Loading, StatusBadge, Time, useLoad } from "../components/common";

const SAMPLE = JSON.stringify(
  { id: "test-1", source: "monitor", title: "High latency on api", status: "alert", severity: "high", tags: ["team:sre", "service:api"] },
  null,
  2,
);

function SendEvent({ onSent }: { onSent: () => void }) {
  const [text, setText] = useState(SAMPLE);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      const r = await api.postEvent(JSON.parse(text));
      setResult(`Accepted ${r.accepted} event(s); ${r.runs.length} run(s) started.`);
      onSent();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details className="card">
      <summary>Send a test event</summary>
      <form onSubmit={submit} aria-label="Send a normalized event">
        <label htmlFor="event-json">Normalized event (JSON)</label>
        <textarea id="event-json" rows={8} className="mono" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Send event</button>
        {result && (
          <p role="status" className="notice">
            {result}
          </p>
        )}
        <ErrorMessage error={error} />
      </form>
    </details>
  );
}

function EventDetails({ event }: { event: EventRecord }) {
  return (
    <section className="card" aria-labelledby="event-title" data-testid="event-details">
      <h2 id="event-title">
        Event <code>{event.id}</code>
      </h2>
      <p>
        {event.event.title ?? ""} <StatusBadge status={event.status} /> via {event.via}, received <Time iso={event.received_at} />
      </p>
      {event.error && <p className="error">{event.error}</p>}
      <h3>Runs started</h3>
      {event.runs.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul>
          {event.runs.map((r) => (
            <li key={r}>
              <Link to={`/runs/${encodeURIComponent(r)}`} className="mono">
                {r}
              </Link>
            </li>
          ))}
        </ul>
      )}
      <h3>Why each workflow did or did not match</h3>
      {event.decisions.length === 0 ? (
        <p className="muted">No workflow has a trigger for this kind of event.</p>
      ) : (
        <table className="table compact" aria-label="Match decisions">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Matched</th>
              <th scope="col">Trigger</th>
              <th scope="col">Reason</th>
              <th scope="col">Triggers tried</th>
            </tr>
          </thead>
          <tbody>
            {event.decisions.map((d, i) => (
              <tr key={i} data-testid={`decision-${d.workflow}`} data-matched={d.matched}>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(d.workflow)}`}>{d.workflow}</Link> <span className="muted">v{d.version}</span>
                </td>
                <td>{d.matched ? <span className="badge status-succeeded">matched</span> : <span className="badge status-skipped">no match</span>}</td>
                <td>{d.trigger ?? "–"}</td>
                <td>{d.reason}</td>
                <td className="small">
                  {d.tried.map((t, j) => (
                    <div key={j}>
                      <code>{t.trigger}</code>: {t.result}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Event</h3>
      <Json value={event.event} label="event body" />
    </section>
  );
}

export function EventsPage() {
  const [source, setSource] = useState("");
  const { data, error, loading, reload } = useLoad(() => api.listEvents({ source, limit: 100 }), [source]);
  const [shown, setShown] = useState<EventRecord | null>(null);
  const [detailError, setDetailError] = useState<unknown>(null);
  const open = async (id: string) => {
    setDetailError(null);
    try {
      setShown(await api.getEvent(id));
    } catch (e) {
      setDetailError(e);
    }
  };

  return (
    <>
      <div className="page-head">
        <h1>Events</h1>
        <div className="field inline">
          <label htmlFor="ev-source">Source</label>
          <select id="ev-source" value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">any</option>
            <option value="monitor">monitor</option>
            <option value="security_signal">security_signal</option>
            <option value="webhook">webhook</option>
          </select>
        </div>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <SendEvent onSent={reload} />
      <ErrorMessage error={error ?? detailError} />
      {loading && !data && <Loading what="events" />}
      {data && data.items.length === 0 && <p className="muted">No events yet.</p>}
      {data && data.items.length > 0 && (
        <table className="table" aria-label="Events">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Source</th>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col">Received</th>
              <th scope="col">Runs</th>
              <th scope="col">Matches</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((e) => (
              <tr key={e.id} data-testid={`event-${e.id}`} className={shown?.id === e.id ? "selected" : undefined}>
                <td>
                  <button type="button" className="link mono" onClick={() => open(e.id)} aria-label={`Show event ${e.id}`}>
                    {e.id}
                  </button>
                </td>
                <td>{e.source}</td>
                <td>{e.event.title ?? ""}</td>
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td>
                  <Time iso={e.received_at} />
                </td>
                <td>{e.runs.length}</td>
                <td className="small">
                  {e.decisions.filter((d) => d.matched).length} of {e.decisions.length} workflows
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && <EventDetails event={shown} />}
    </>
  );
}
