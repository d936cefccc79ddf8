// Private runners the workflows name, with their liveness as Temporal sees it.

import { Link } from "react-router-dom";
import { api } from "../api/client";
import { ErrorMessage, Loading, Time, useLoad } from "../components/common";

export function RunnersPage() {
  const { data, error, loading } = useLoad(() => api.listRunners({ limit: 500 }), []);
  return (
    <>
      <div className="page-head">
        <h1>Runners</h1>
      </div>
      <p className="muted">
        Actions of steps with <code>runner:</code> run on that private runner, inside its network. A runner is online
        when it polled in the last 2 minutes.
      </p>
      <ErrorMessage error={error} />
      {loading && !data && <Loading what="runners" />}
      {data && data.items.length === 0 && <p>No workflow names a runner yet.</p>}
      {data && data.items.length > 0 && (
        <table className="table" aria-label="Runners">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Pollers</th>
              <th scope="col">Used by</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((r) => (
              <tr key={r.name} data-testid={`runner-row-${r.name}`}>
                <td>
                  {r.name}
                  <div className="muted small mono">{r.task_queue}</div>
                </td>
                <td>
                  <span className={`badge ${r.online ? "status-succeeded" : "status-failed"}`}>
                    {r.online ? "online" : "offline"}
                  </span>
                </td>
                <td>{r.last_seen ? <Time iso={r.last_seen} /> : <span className="muted">never</span>}</td>
                <td className="small">
                  {r.pollers.length ? r.pollers.map((p) => <div key={p.identity} className="mono">{p.identity}</div>) : <span className="muted">none</span>}
                </td>
                <td>
                  {r.workflows.map((w) => (
                    <div key={w}>
                      <Link to={`/workflows/${encodeURIComponent(w)}`}>{w}</Link>
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
