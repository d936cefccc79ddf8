// One run: the graph coloured by step status, updated live from the run's
// event stream; the step panel; cancel, rerun, approvals.

import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import { streamRun } from "../api/stream";
import type { Definition, Run, RunStatus } from "../api/types";
import { Duration, ErrorMessage, Json, Loading, StatusBadge, Time } from "../components/common";
import { buildGraph } from "../graph/model";
import { WorkflowGraph, type GraphSource } from "../graph/WorkflowGraph";
import { ApprovalCard } from "../run/ApprovalCard";
import { StepPanel } from "../run/StepPanel";

const FINAL: RunStatus[] = ["succeeded", "failed", "cancelled", "timed_out"];

/** Follows the run: its JSON now, then every change from the stream (polling if the stream fails). */
function useLiveRun(id: string) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const [refresh, setRefresh] = useState(0);

  useEffect(() => {
    let stop = () => {};
    let timer: number | undefined;
    let closed = false;
    const poll = () => {
      timer = window.setTimeout(async () => {
        try {
          const r = await api.getRun(id);
          if (closed) return;
          setRun(r);
          if (!FINAL.includes(r.status)) poll();
          else setLive(false);
        } catch (e) {
          if (!closed) setError(e);
        }
      }, 1000);
    };
    api.getRun(id).then(
      (first) => {
        if (closed) return;
        setRun(first);
        if (FINAL.includes(first.status)) return;
        setLive(true);
        stop = streamRun(id, {
          onRun: (r) => setRun(r),
          onEnd: () => {
            setLive(false);
            api.getRun(id).then((r) => !closed && setRun(r), () => {});
          },
          onError: () => poll(),
        });
      },
      (e: unknown) => setError(e),
    );
    return () => {
      closed = true;
      stop();
      window.clearTimeout(timer);
    };
  }, [id, refresh]);
  return { run, error, live, refresh: () => setRefresh((n) => n + 1) };
}

function useDefinition(run: Run | null): Definition | null {
  const [definition, setDefinition] = useState<Definition | null>(null);
  const workflow = run?.workflow;
  const version = run?.version;
  const stepIds = run ? Object.keys(run.steps ?? {}).join(",") : "";
  useEffect(() => {
    if (!workflow) return;
    const fallback = () =>
      setDefinition({ name: workflow, steps: stepIds.split(",").filter(Boolean).map((id) => ({ id })) });
    if (version === null || version === undefined) return fallback();
    api.getVersion(workflow, version).then((v) => setDefinition(v.definition), fallback);
    // The steps only matter for the fallback (a deleted workflow).
  }, [workflow, version]);
  return definition;
}

export function RunPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const { run, error, live, refresh } = useLiveRun(id);
  const definition = useDefinition(run);
  const source = useMemo<GraphSource | null>(
    () => (definition ? { definition } : null),
    [definition],
  );
  const graph = useMemo(() => (definition ? buildGraph(definition) : null), [definition]);
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (error) return <ErrorMessage error={error} />;
  if (!run) return <Loading what="the run" />;

  const act = async (what: () => Promise<Run>, follow: boolean) => {
    setBusy(true);
    setActionError(null);
    try {
      const result = await what();
      if (follow && result.id !== run.id) navigate(`/runs/${encodeURIComponent(result.id)}`);
      else refresh();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };
  const final = FINAL.includes(run.status);
  const node = graph?.nodes.find((n) => n.id === selected) ?? null;
  const approvals = Object.entries(run.approvals ?? {});

  return (
    <>
      <div className="page-head">
        <h1>
          Run of <Link to={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link>
          {run.version !== null && <span className="muted"> v{run.version}</span>}
        </h1>
        <div className="run-status" data-testid="run-status" data-status={run.status}>
          <StatusBadge status={run.status} label="run status" />
          {live && !final && (
            <span className="live" aria-label="updating live">
              ● live
            </span>
          )}
        </div>
        <div className="buttons">
          {!final && (
            <button type="button" disabled={busy} onClick={() => act(() => api.cancelRun(run.id), false)}>
              Cancel run
            </button>
          )}
          {final && (
            <button type="button" disabled={busy} onClick={() => act(() => api.rerun(run.id, "start"), true)}>
              Rerun from start
            </button>
          )}
          {final && run.status !== "succeeded" && (
            <button type="button" disabled={busy} onClick={() => act(() => api.rerun(run.id, "failed"), true)}>
              Rerun from failed step
            </button>
          )}
        </div>
      </div>
      <dl className="facts run-facts">
        <dt>Run id</dt>
        <dd className="mono" data-testid="run-id">{run.id}</dd>
        <dt>Trigger</dt>
        <dd>{String(run.trigger?.type ?? "–")}{run.trigger?.user ? ` by ${String(run.trigger.user)}` : ""}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={run.started_at} />
        </dd>
        <dt>Duration</dt>
        <dd>
          <Duration from={run.started_at} to={run.finished_at} />
        </dd>
        {run.rerun_of && (
          <>
            <dt>Rerun of</dt>
            <dd>
              <Link to={`/runs/${encodeURIComponent(run.rerun_of)}`} className="mono">{run.rerun_of}</Link>
            </dd>
          </>
        )}
      </dl>
      <ErrorMessage error={actionError} />
      {run.error && (
        <div className="error" role="alert" data-testid="run-error">
          <p>
            <strong>{run.error.type}</strong>
            {run.error.step && (
              <>
                {" "}in step <code>{run.error.step}</code>
              </>
            )}
            : {run.error.message}
          </p>
        </div>
      )}
      {approvals.length > 0 && (
        <section className="approvals" aria-label="Approvals waiting">
          {approvals.map(([step, approval]) => (
            <ApprovalCard key={step} runId={run.id} step={step} approval={approval} onDecided={refresh} />
          ))}
        </section>
      )}
      <div className={`run-layout${node ? " with-panel" : ""}`}>
        <section className="graph-pane" aria-label="Run graph">
          <WorkflowGraph source={source} run={run} selected={selected} onSelect={setSelected} label="Run graph, coloured by step status" />
        </section>
        {node && <StepPanel key={node.id} run={run} node={node} onClose={() => setSelected(null)} />}
      </div>
      <section className="section" aria-labelledby="steps-title">
        <h2 id="steps-title">Steps</h2>
        <ul className="step-list">
          {(graph?.nodes ?? []).filter((n) => n.scope.length === 0).map((n) => (
            <li key={n.id}>
              <button type="button" className="link" onClick={() => setSelected(n.id)} aria-label={`Open step ${n.stepId}`}>
                {n.stepId}
              </button>{" "}
              <StatusBadge status={run.steps?.[n.stepId]?.status ?? "pending"} />
            </li>
          ))}
        </ul>
      </section>
      <div className="io">
        <section className="section" aria-labelledby="inputs-title">
          <h2 id="inputs-title">Inputs</h2>
          <Json value={run.inputs} label="run inputs" />
        </section>
        <section className="section" aria-labelledby="outputs-title">
          <h2 id="outputs-title">Outputs</h2>
          <Json value={run.outputs} label="run outputs" />
        </section>
      </div>
    </>
  );
}
