// One step of a run: status, attempts, timings, inputs, output, error, and
// for loops (or steps inside loops) the iterations.

import { useState } from "react";
import type { Iteration, Run, StepState } from "../api/types";
import { Duration, Json, StatusBadge, Time } from "../components/common";
import { statesOf, type GraphNode } from "../graph/model";

/** What went into the step: the resolved inputs when the run says, else the fields as written. */
function inputsOf(node: GraphNode, state: StepState | undefined): { value: unknown; resolved: boolean } {
  for (const key of ["inputs", "input", "with"]) {
    if (state && state[key] !== undefined) return { value: state[key], resolved: true };
  }
  const step = node.step;
  if (node.kind === "action" || node.kind === "call") return { value: step.with ?? {}, resolved: false };
  if (node.kind === "unknown") return { value: undefined, resolved: false };
  const written: Record<string, unknown> = { [node.kind]: step[node.kind] };
  for (const k of ["connection", "choices", "cases", "do", "concurrency", "max_iterations"]) if (step[k] !== undefined) written[k] = step[k];
  if (written.do) written.do = `${(step.do ?? []).length} steps`;
  return { value: written, resolved: false };
}

function StateDetails({ state, node }: { state: StepState | undefined; node: GraphNode }) {
  const inputs = inputsOf(node, state);
  return (
    <>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={state?.status ?? "pending"} label="step status" />
          {state?.reused === true && <span className="muted small"> reused from the earlier run</span>}
        </dd>
        <dt>Attempts</dt>
        <dd data-testid="step-attempts">{state?.attempts ?? 0}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={state?.started_at} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time iso={state?.finished_at} />
        </dd>
        <dt>Duration</dt>
        <dd>
          <Duration from={state?.started_at} to={state?.finished_at} />
        </dd>
      </dl>
      <h4>{inputs.resolved ? "Inputs" : "Inputs (as written)"}</h4>
      <Json value={inputs.value} label="step inputs" />
      <h4>Output</h4>
      <Json value={state?.output ?? null} label="step output" />
      {state?.error && (
        <>
          <h4>Error</h4>
          <div className="error" data-testid="step-error">
            <p>
              <strong>{state.error.type}</strong>: {state.error.message}
            </p>
            {state.error.details !== undefined && state.error.details !== null && <Json value={state.error.details} label="error details" />}
          </div>
        </>
      )}
    </>
  );
}

function IterationsTable({ iterations, onPick, picked }: { iterations: Iteration[]; onPick: (i: number) => void; picked: number | null }) {
  return (
    <table className="table compact" aria-label="Iterations">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Status</th>
          <th scope="col">Steps</th>
          <th scope="col"></th>
        </tr>
      </thead>
      <tbody>
        {iterations.map((it, i) => (
          <tr key={i} className={picked === i ? "selected" : undefined}>
            <td>{it.index ?? i}</td>
            <td>
              <StatusBadge status={it.status} />
            </td>
            <td className="small">
              {Object.entries(it.steps ?? {})
                .map(([id, s]) => `${id}: ${s.status}`)
                .join(", ")}
            </td>
            <td>
              <button type="button" onClick={() => onPick(i)} aria-label={`Show iteration ${it.index ?? i}`}>
                Show
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function IterationDetails({ iteration }: { iteration: Iteration }) {
  return (
    <div className="iteration" data-testid="iteration-details">
      <h4>Iteration {iteration.index}</h4>
      {iteration.item !== undefined && <Json value={iteration.item} label="iteration item" />}
      <ul className="iteration-steps">
        {Object.entries(iteration.steps ?? {}).map(([id, s]) => (
          <li key={id}>
            <code>{id}</code> <StatusBadge status={s.status} />
            {s.error && <span className="small"> {s.error.type}: {s.error.message}</span>}
            {s.output !== undefined && s.output !== null && <Json value={s.output} label={`output of ${id}`} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function StepPanel({ run, node, onClose }: { run: Run; node: GraphNode; onClose: () => void }) {
  const [picked, setPicked] = useState<number | null>(null);
  const states = statesOf(run, node.scope, node.stepId);
  const inLoop = node.scope.length > 0;
  const state = inLoop ? states[picked ?? states.length - 1] : states[0];
  const iterations = !inLoop ? state?.iterations : undefined;

  return (
    <aside className="step-panel" aria-labelledby="step-panel-title" data-testid="step-panel" data-step={node.id}>
      <div className="section-head">
        <h2 id="step-panel-title">
          Step <code>{node.stepId}</code> <span className="muted small">{node.kind.replace("_", " ")}</span>
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the step panel">
          Close
        </button>
      </div>
      {node.detail && node.kind !== "script" && <p className="mono small">{node.detail}</p>}
      {inLoop && (
        <>
          <p className="muted small">
            Inside {node.scope.join(" › ")}: ran in {states.length} iteration{states.length === 1 ? "" : "s"}.
          </p>
          {states.length > 1 && (
            <div className="field inline">
              <label htmlFor="iteration-pick">Iteration</label>
              <select id="iteration-pick" value={picked ?? states.length - 1} onChange={(e) => setPicked(Number(e.target.value))}>
                {states.map((s, i) => (
                  <option key={i} value={i}>
                    {i} ({s.status})
                  </option>
                ))}
              </select>
            </div>
          )}
        </>
      )}
      <StateDetails state={state} node={node} />
      {iterations && iterations.length > 0 && (
        <>
          <h4>Iterations</h4>
          <IterationsTable iterations={iterations} onPick={setPicked} picked={picked} />
          {picked !== null && iterations[picked] && <IterationDetails iteration={iterations[picked]} />}
        </>
      )}
    </aside>
  );
}
