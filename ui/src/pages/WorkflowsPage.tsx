// Every workflow: published or draft, triggers, last run.

import { Link } from "react-router-dom";
import { api } from "../api/client";
import { ErrorMessage, Loading, StatusBadge, Time, triggerKinds, useLoad } from "../components/common";

export function WorkflowsPage() {
  const { data, error, loading } = useLoad(() => api.listWorkflows({ limit: 500 }), []);
  return (
    <>
      <div className="page-head">
        <h1>Workflows</h1>
        <Link className="button" to="/workflows/new">
          New workflow
        </Link>
      </div>
      <ErrorMessage error={error} />
      {loading && !data && <Loading what="workflows" />}
      {data && data.items.length === 0 && (
        <p>
          No workflows yet. <Link to="/workflows/new">Create one</Link> by pasting its YAML.
        </p>
      )}
      {data && data.items.length > 0 && (
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Versions</th>
              <th scope="col">Triggers</th>
              <th scope="col">Last run</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((w) => (
              <tr key={w.name} data-testid={`workflow-row-${w.name}`}>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(w.name)}`}>{w.name}</Link>
                  {w.description && <div className="muted small">{w.description}</div>}
                </td>
                <td>
                  {w.published_version !== null ? (
                    <span className="badge status-published">published v{w.published_version}</span>
                  ) : (
                    <span className="badge status-draft">draft</span>
                  )}
                </td>
                <td>latest v{w.latest_version}</td>
                <td>
                  {triggerKinds(w.triggers).length
                    ? triggerKinds(w.triggers).map((k, i) => (
                        <span key={i} className="chip">
                          {k}
                        </span>
                      ))
                    : <span className="muted">manual only</span>}
                </td>
                <td>
                  {w.last_run ? (
                    <Link to={`/runs/${encodeURIComponent(w.last_run.id)}`}>
                      <span className="sr-only">last run of {w.name}: </span>
                      <StatusBadge status={w.last_run.status} /> <Time iso={w.last_run.started_at} />
                    </Link>
                  ) : (
                    <span className="muted">never run</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
