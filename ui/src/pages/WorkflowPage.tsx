// A workflow: its definition in a YAML editor beside the live graph; save,
// publish, versions with diff and rollback, a run form, its recent runs.
// `/workflows/new` is the same page with an empty definition.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { load } from "js-yaml";
import { api } from "../api/client";
import type { SaveResult, Workflow } from "../api/types";
import { ErrorMessage, Loading, useLoad } from "../components/common";
import { ProblemsList } from "../editor/ProblemsList";
import { YamlEditor, type LocatedProblem, type YamlEditorHandle } from "../editor/YamlEditor";
import { WorkflowGraph, type GraphSource } from "../graph/WorkflowGraph";
import { RunForm } from "../run/RunForm";
import { RunsTable } from "../run/RunsTable";
import { VersionsPanel } from "../workflow/VersionsPanel";

const TEMPLATE = `name: my-workflow
description: What this workflow does
inputs:
  who: {type: string, required: true, description: Whom to greet}
steps:
  - id: greet
    action: core.echo
    with:
      message: "hello {{ Inputs.who }}"
`;

function nameIn(text: string): string | null {
  try {
    const value = load(text) as { name?: unknown } | null;
    return value && typeof value.name === "string" ? value.name : null;
  } catch {
    return null;
  }
}

type Tab = "run" | "versions" | "runs";

function Tabs({ tab, setTab }: { tab: Tab; setTab: (t: Tab) => void }) {
  const tabs: [Tab, string][] = [
    ["run", "Run"],
    ["versions", "Versions"],
    ["runs", "Recent runs"],
  ];
  return (
    <div role="tablist" aria-label="Workflow sections" className="tabs">
      {tabs.map(([t, label]) => (
        <button
          key={t}
          type="button"
          role="tab"
          id={`tab-${t}`}
          aria-selected={tab === t}
          aria-controls={`panel-${t}`}
          tabIndex={tab === t ? 0 : -1}
          onClick={() => setTab(t)}
          onKeyDown={(e) => {
            // Arrow keys move between tabs (selection follows focus, as in the ARIA tabs pattern).
            const i = tabs.findIndex(([x]) => x === t);
            const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? tabs.length - 1 : 0;
            if (!step) return;
            const next = tabs[(i + step) % tabs.length][0];
            setTab(next);
            document.getElementById(`tab-${next}`)?.focus();
          }}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

function RecentRuns({ name, reloadKey }: { name: string; reloadKey: number }) {
  const { data, error } = useLoad(() => api.listRuns({ workflow: name, limit: 20 }), [name, reloadKey]);
  return (
    <>
      <ErrorMessage error={error} />
      {data && <RunsTable runs={data.items} label={`Recent runs of ${name}`} />}
    </>
  );
}

export function WorkflowPage() {
  const { name } = useParams();
  const isNew = name === undefined;
  const navigate = useNavigate();
  const [reloadKey, setReloadKey] = useState(0);
  const { data: workflow, error: loadError } = useLoad<Workflow | null>(
    () => (name ? api.getWorkflow(name) : Promise.resolve(null)),
    [name, reloadKey],
  );
  const [text, setText] = useState<string | null>(isNew ? TEMPLATE : null);
  // What the graph draws: the editor's text, 300 ms after the last keystroke.
  const [graphText, setGraphText] = useState<string | null>(isNew ? TEMPLATE : null);
  const source = useMemo<GraphSource | null>(() => (graphText === null ? null : { text: graphText }), [graphText]);
  const [problems, setProblems] = useState<LocatedProblem[]>([]);
  const [checking, setChecking] = useState(false);
  const [saved, setSaved] = useState<SaveResult | null>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState<Tab>("run");
  const editor = useRef<YamlEditorHandle>(null);
  const debounce = useRef<number | undefined>(undefined);

  // The text the editor starts with: the latest version's source.
  useEffect(() => {
    if (workflow && text === null) {
      setText(workflow.text);
      setGraphText(workflow.text);
    }
  }, [workflow, text]);

  const onChange = useCallback((value: string) => {
    setText(value);
    setSaved(null);
    window.clearTimeout(debounce.current);
    debounce.current = window.setTimeout(() => setGraphText(value), 300);
  }, []);
  const onProblems = useCallback((list: LocatedProblem[], isChecking: boolean) => {
    setChecking(isChecking);
    if (!isChecking) setProblems(list);
  }, []);

  const save = async (publish: boolean) => {
    if (text === null) return;
    const target = name ?? nameIn(text);
    if (!target) {
      setSaveError(new Error("the definition needs a name: (the workflow's handle)"));
      return;
    }
    setBusy(true);
    setSaveError(null);
    try {
      const result = await api.saveWorkflow(target, text, publish);
      setSaved(result);
      if (isNew) navigate(`/workflows/${encodeURIComponent(target)}`);
      else setReloadKey((k) => k + 1);
    } catch (e) {
      setSaveError(e);
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return <ErrorMessage error={loadError} />;
  if (text === null) return <Loading what="the workflow" />;
  const errors = problems.filter((p) => p.severity !== "warning").length;
  const published = workflow?.published_version ?? null;

  return (
    <>
      <div className="page-head">
        <h1>{isNew ? "New workflow" : name}</h1>
        {workflow && (
          <p className="muted" data-testid="workflow-versions">
            latest v{workflow.latest_version} ·{" "}
            {published !== null ? (
              <span className="badge status-published">published v{published}</span>
            ) : (
              <span className="badge status-draft">not published</span>
            )}
          </p>
        )}
        <div className="buttons">
          <button type="button" onClick={() => save(false)} disabled={busy || errors > 0}>
            Save
          </button>
          <button type="button" onClick={() => save(true)} disabled={busy || errors > 0}>
            Save and publish
          </button>
        </div>
      </div>
      {saved && (
        <p className="notice" role="status" data-testid="save-result">
          {saved.changed || saved.created ? `Saved version ${saved.version}` : `No change (version ${saved.version})`}
          {saved.published_version !== null ? `; published version is ${saved.published_version}` : ""}.
        </p>
      )}
      <ErrorMessage error={saveError} />
      <div className="editor-layout">
        <section className="editor-pane" aria-label="Definition">
          <YamlEditor ref={editor} initial={text} onChange={onChange} onProblems={onProblems} label="Workflow definition (YAML)" />
          <ProblemsList problems={problems} checking={checking} onGoTo={(line) => editor.current?.goToLine(line)} />
        </section>
        <section className="graph-pane" aria-label="Graph">
          <WorkflowGraph source={source} label="Workflow graph" />
        </section>
      </div>
      {!isNew && workflow && (
        <>
          <Tabs tab={tab} setTab={setTab} />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
            {tab === "run" && (
              <RunPanel workflow={workflow} onStarted={(id) => navigate(`/runs/${encodeURIComponent(id)}`)} />
            )}
            {tab === "versions" && (
              <VersionsPanel name={workflow.name} reloadKey={reloadKey} onPublished={() => setReloadKey((k) => k + 1)} />
            )}
            {tab === "runs" && <RecentRuns name={workflow.name} reloadKey={reloadKey} />}
          </div>
        </>
      )}
    </>
  );
}

/** The run form for the version a run would use: the published one, else the latest. */
function RunPanel({ workflow, onStarted }: { workflow: Workflow; onStarted: (id: string) => void }) {
  const version = workflow.published_version ?? workflow.latest_version;
  const { data, error } = useLoad(
    () =>
      version === workflow.latest_version
        ? Promise.resolve(workflow.definition)
        : api.getVersion(workflow.name, version).then((v) => v.definition),
    [workflow.name, version, workflow.latest_version],
  );
  return (
    <>
      <p className="muted">
        Runs version {version}
        {workflow.published_version === null ? " (the latest: none is published)" : " (the published one)"}.
      </p>
      <ErrorMessage error={error} />
      {data && <RunForm key={`${workflow.name}-${version}`} workflow={workflow.name} inputs={data.inputs} onStarted={(run) => onStarted(run.id)} />}
    </>
  );
}
