// The DAG of a definition, as the UI draws it: one node per step (loops are
// groups holding their body), edges for next, branches and error fallbacks.

import type { Definition, Ids, Iteration, Run, Step, StepState, StepStatus } from "../api/types";

export const KIND_KEYS = [
  "action",
  "if",
  "switch",
  "for_each",
  "while",
  "transform",
  "script",
  "set",
  "sleep",
  "approval",
  "call",
  "fail",
] as const;
export type Kind = (typeof KIND_KEYS)[number] | "unknown";

export type EdgeKind = "next" | "branch" | "error";

export interface GraphNode {
  /** Unique in the graph: the step id, prefixed by its loops' ids (`each/notify`). */
  id: string;
  stepId: string;
  kind: Kind;
  /** What the node says under its id: the action type, the condition, ... */
  detail: string;
  /** The loop group this node is in (its node id), if any. */
  parent?: string;
  isGroup: boolean;
  /** Loop ids from the outermost in: where to find this step's state in a run. */
  scope: string[];
  isStart: boolean;
  join?: string;
  step: Step;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  label?: string;
  /** The group both ends are in (edges never cross a loop's boundary). */
  parent?: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function kindOf(step: Step): Kind {
  for (const key of KIND_KEYS) if (key in step) return key;
  return "unknown";
}

export function ids(value: Ids | undefined | null): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function detailOf(step: Step, kind: Kind): string {
  if (kind === "unknown") return "";
  const value = step[kind];
  if (kind === "set" && value && typeof value === "object") return Object.keys(value).join(", ");
  if (kind === "script") return "script";
  if (typeof value === "string" || typeof value === "number") return String(value);
  return "";
}

/** Builds the graph of `definition` (tolerant: unknown targets are left out). */
export function buildGraph(definition: Pick<Definition, "steps" | "start">): Graph {
  const graph: Graph = { nodes: [], edges: [] };
  addScope(graph, definition.steps ?? [], [], undefined, ids(definition.start));
  return graph;
}

function addScope(
  graph: Graph,
  steps: Step[],
  scope: string[],
  parent: string | undefined,
  start: string[],
): void {
  if (!Array.isArray(steps)) return;
  const prefix = scope.length ? `${scope.join("/")}/` : "";
  const known = new Set<string>();
  const valid = steps.filter(
    (s): s is Step => !!s && typeof s === "object" && typeof s.id === "string" && s.id !== "",
  );
  const starts = start.length ? start : valid.length ? [valid[0].id] : [];
  for (const step of valid) {
    if (known.has(step.id)) continue; // a duplicate id: the validator reports it
    known.add(step.id);
    const kind = kindOf(step);
    const isGroup = kind === "for_each" || kind === "while";
    const node: GraphNode = {
      id: prefix + step.id,
      stepId: step.id,
      kind,
      detail: detailOf(step, kind),
      parent,
      isGroup,
      scope,
      isStart: starts.includes(step.id),
      join: typeof step.join === "string" && step.join !== "all" ? step.join : undefined,
      step,
    };
    graph.nodes.push(node);
    if (isGroup && Array.isArray(step.do)) addScope(graph, step.do, [...scope, step.id], node.id, []);
  }
  let n = 0;
  const edge = (source: string, target: string, kind: EdgeKind, label?: string) => {
    if (!known.has(target) || !known.has(source)) return;
    graph.edges.push({
      id: `e${n++}:${prefix}${source}->${target}`,
      source: prefix + source,
      target: prefix + target,
      kind,
      label,
      parent,
    });
  };
  for (const step of valid) {
    for (const target of ids(step.next)) edge(step.id, target, "next");
    for (const target of ids(step.then)) edge(step.id, target, "branch", "then");
    for (const target of ids(step.else)) edge(step.id, target, "branch", "else");
    if (step.cases && typeof step.cases === "object") {
      for (const [value, targets] of Object.entries(step.cases))
        for (const target of ids(targets)) edge(step.id, target, "branch", value);
    }
    if ("switch" in step) for (const target of ids(step.default)) edge(step.id, target, "branch", "default");
    if (step.on && typeof step.on === "object") {
      for (const [choice, targets] of Object.entries(step.on))
        for (const target of ids(targets)) edge(step.id, target, "branch", choice);
    }
    if (typeof step.on_error === "string" && step.on_error !== "continue")
      edge(step.id, step.on_error, "error", "on error");
  }
}

// ---------------------------------------------------------------- run states

/** A step's state in a run, or, for a step in a loop body, a summary of its iterations. */
export interface NodeRunState {
  status: StepStatus;
  /** For a step inside loops: how many iterations ran it, and how each ended. */
  iterations?: { total: number; byStatus: Partial<Record<StepStatus, number>> };
  state?: StepState;
}

/** Every state of the step at `scope`/`stepId` across the iterations of its loops. */
export function statesOf(run: Run, scope: string[], stepId: string): StepState[] {
  let levels: Record<string, StepState>[] = [run.steps ?? {}];
  for (const loop of scope) {
    const next: Record<string, StepState>[] = [];
    for (const steps of levels) {
      const iterations: Iteration[] = steps[loop]?.iterations ?? [];
      for (const it of iterations) next.push(it.steps ?? {});
    }
    levels = next;
  }
  return levels.map((steps) => steps[stepId]).filter((s): s is StepState => !!s);
}

const PRECEDENCE: StepStatus[] = ["running", "waiting", "failed", "cancelled", "succeeded", "skipped", "pending"];

export function nodeRunState(run: Run | null, node: GraphNode): NodeRunState | undefined {
  if (!run) return undefined;
  const states = statesOf(run, node.scope, node.stepId);
  if (node.scope.length === 0) {
    const state = states[0];
    return { status: state?.status ?? "pending", state };
  }
  if (!states.length) return { status: "pending", iterations: { total: 0, byStatus: {} } };
  const byStatus: Partial<Record<StepStatus, number>> = {};
  for (const s of states) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const status = PRECEDENCE.find((p) => byStatus[p]) ?? "pending";
  return { status, iterations: { total: states.length, byStatus }, state: states[states.length - 1] };
}
