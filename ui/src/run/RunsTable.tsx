// A table of run summaries (the runs list and a workflow's recent runs).

import { Link } from "react-router-dom";
import type { RunSummary } from "../api/types";
import { Duration, StatusBadge, Time } from "../components/common";

export function RunsTable({ runs, label }: { runs: RunSummary[]; label: string }) {
  if (runs.length === 0) return <p className="muted">No runs.</p>;
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Workflow</th>
          <th scope="col">Status</th>
          <th scope="col">Trigger</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-testid={`run-row-${r.id}`} data-status={r.status}>
            <td>
              <Link to={`/runs/${encodeURIComponent(r.id)}`} className="mono">
                {r.id.length > 24 ? `${r.id.slice(0, 24)}…` : r.id}
              </Link>
              {r.rerun_of && <div className="muted small">rerun of {r.rerun_of.slice(0, 12)}…</div>}
            </td>
            <td>
              <Link to={`/workflows/${encodeURIComponent(r.workflow)}`}>{r.workflow}</Link>
              {r.version !== null && <span className="muted"> v{r.version}</span>}
            </td>
            <td>
              <StatusBadge status={r.status} />
              {r.error && <div className="muted small" title={r.error.message}>{r.error.type}{r.error.step ? ` in ${r.error.step}` : ""}</div>}
            </td>
            <td>{String(r.trigger?.type ?? "–")}</td>
            <td>
              <Time iso={r.started_at} />
            </td>
            <td>
              <Duration from={r.started_at} to={r.finished_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
