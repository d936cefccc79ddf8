// The workflow's DAG, laid out (ELK, or a quick layered layout for large
// graphs) and drawn with @xyflow/react; coloured by step status when a run is given.

import {
  Background,
  Controls,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  getViewportForBounds,
  useNodesInitialized,
  useReactFlow,
  type Edge,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import type { Definition, Run } from "../api/types";
import { load } from "js-yaml";
import { edgeTypes } from "./LabeledEdge";
import { layoutGraph, quickLayout, type Layout } from "./layout";
import { buildGraph, nodeRunState, type Graph, type GraphEdge, type GraphNode, type NodeRunState } from "./model";
import { describeNode, nodeTypes, type StepFlowNode } from "./StepNode";

declare global {
  interface Window {
    /** Milliseconds from reading a definition to the first paint of its laid-out graph. */
    __graphLayoutMs?: number;
    /** The parts of the last measurement: until laid out, and until painted. */
    __graphTimings?: { layout: number; total: number; nodes: number };
  }
}

/** What to draw: a definition's text (YAML or JSON, as typed), or a parsed definition. */
export type GraphSource = { text: string } | { definition: Pick<Definition, "steps" | "start"> };

/** The definition in `source`; null when the text is not a definition (yet). js-yaml:
 * several times quicker than `yaml` on large documents (the editor keeps `yaml`
 * where it needs positions). */
function definitionOf(source: GraphSource): Pick<Definition, "steps" | "start"> | null {
  if ("definition" in source) return source.definition;
  try {
    const value = load(source.text) as Partial<Definition> | null;
    if (!value || typeof value !== "object" || !Array.isArray(value.steps)) return null;
    return { steps: value.steps, start: value.start };
  } catch {
    return null;
  }
}

interface Props {
  source: GraphSource | null;
  run?: Run | null;
  selected?: string | null;
  onSelect?: (nodeId: string | null) => void;
  label: string;
}

interface Laid {
  graph: Graph;
  layout: Layout;
  /** `performance.now()` when the source was read (the timing's start), and when laid out. */
  t0: number;
  at: number;
}

function toEdge(edge: GraphEdge): Edge {
  const error = edge.kind === "error";
  const color = error ? "#c62828" : edge.kind === "branch" ? "#3949ab" : "#78909c";
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    type: "labeled",
    label: edge.label,
    data: { color },
    className: `edge-${edge.kind}`,
    ariaLabel: `${edge.source} to ${edge.target}${edge.label ? ` (${edge.label})` : ""}`,
    style: error ? { stroke: color, strokeDasharray: "6 4", strokeWidth: 1.5 } : { stroke: color, strokeWidth: 1.5 },
    markerEnd: { type: MarkerType.ArrowClosed, color },
    focusable: false,
  };
}

function runKey(state: NodeRunState | undefined): string {
  if (!state) return "";
  const it = state.iterations ? JSON.stringify(state.iterations) : "";
  return `${state.status}|${it}|${state.state?.iterations?.length ?? ""}`;
}

function toNode(node: GraphNode, layout: Layout, state: NodeRunState | undefined, selected: boolean): StepFlowNode {
  const box = layout.get(node.id) ?? { x: 0, y: 0, width: 200, height: 58 };
  return {
    id: node.id,
    type: node.isGroup ? "loop" : "step",
    position: { x: box.x, y: box.y },
    width: box.width,
    height: box.height,
    // Known sizes and handle places: React Flow draws nodes and edges in its
    // first render instead of measuring the DOM first (a frame per round trip).
    measured: { width: box.width, height: box.height },
    handles: [
      { type: "target", position: Position.Top, x: box.width / 2 - 3, y: -3, width: 6, height: 6 },
      { type: "source", position: Position.Bottom, x: box.width / 2 - 3, y: box.height - 3, width: 6, height: 6 },
    ],
    parentId: node.parent,
    extent: node.parent ? "parent" : undefined,
    draggable: false,
    connectable: false,
    selected,
    ariaLabel: describeNode(node, state),
    data: { node, run: state },
    zIndex: node.isGroup ? 0 : 1,
  };
}

/** The source parsed and laid out: the quick layout right away for large graphs, ELK for small ones.
 * While the text does not parse, the last good graph stays. */
function useLaidOut(source: GraphSource | null): { laid: Laid | null; error: string | null } {
  const [laid, setLaid] = useState<Laid | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!source) return;
    const t0 = performance.now();
    const definition = definitionOf(source);
    if (!definition) return;
    const graph = buildGraph(definition);
    const quick = quickLayout(graph);
    if (quick) {
      setError(null);
      setLaid({ graph, layout: quick, t0, at: performance.now() });
      return;
    }
    let cancelled = false;
    layoutGraph(graph).then(
      (layout) => {
        if (cancelled) return;
        setError(null);
        setLaid({ graph, layout, t0, at: performance.now() });
      },
      (e: unknown) => !cancelled && setError(`layout failed: ${String(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [source]);
  return { laid, error };
}

/** The whole graph in view; a graph too big to read that way shows its top at a readable zoom. */
function fitGraph(flow: ReturnType<typeof useReactFlow>, box: HTMLElement | null): void {
  if (!box) return;
  const bounds = flow.getNodesBounds(flow.getNodes());
  const fit = getViewportForBounds(bounds, box.clientWidth, box.clientHeight, 0.05, 1, 0.1);
  if (fit.zoom >= 0.4) {
    void flow.setViewport(fit);
    return;
  }
  const zoom = 0.6;
  void flow.setViewport({ x: (box.clientWidth - bounds.width * zoom) / 2 - bounds.x * zoom, y: 16 - bounds.y * zoom, zoom });
}

/** Measures once per laid-out graph, at the first paint after React Flow has every node. */
function Timing({ laid, onMeasured, box }: { laid: Laid | null; onMeasured: (ms: number) => void; box: RefObject<HTMLDivElement | null> }) {
  const initialized = useNodesInitialized();
  const flow = useReactFlow();
  const done = useRef<Laid | null>(null);
  useEffect(() => {
    if (!initialized || !laid || done.current === laid || laid.graph.nodes.length === 0) return;
    done.current = laid;
    fitGraph(flow, box.current);
    requestAnimationFrame(() => {
      const ms = performance.now() - laid.t0;
      window.__graphLayoutMs = ms;
      window.__graphTimings = { layout: laid.at - laid.t0, total: ms, nodes: laid.graph.nodes.length };
      onMeasured(ms);
    });
  }, [initialized, laid, flow, onMeasured, box]);
  return null;
}

/** Fits the graph again when its box changes size (a side panel opened, the window resized). */
function FitOnResize({ target }: { target: RefObject<HTMLDivElement | null> }) {
  const flow = useReactFlow();
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    let last = "";
    const observer = new ResizeObserver(([entry]) => {
      const size = `${Math.round(entry.contentRect.width)}x${Math.round(entry.contentRect.height)}`;
      if (last && size !== last) fitGraph(flow, target.current);
      last = size;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [flow, target]);
  return null;
}

function GraphInner({ source, run, selected, onSelect, label }: Props) {
  const { laid, error } = useLaidOut(source);
  const [measured, setMeasured] = useState<number | null>(null);
  const box = useRef<HTMLDivElement>(null);
  // Node objects are kept while their step's state is the same, so a run
  // update re-renders only the steps that changed.
  const cache = useRef(new Map<string, { key: string; node: StepFlowNode }>());
  const nodes = useMemo(() => {
    if (!laid) return [];
    const previous = cache.current;
    const next = new Map<string, { key: string; node: StepFlowNode }>();
    const out = laid.graph.nodes.map((n) => {
      const state = nodeRunState(run ?? null, n);
      const isSelected = n.id === selected;
      const key = `${runKey(state)}|${isSelected}`;
      const old = previous.get(n.id);
      const node = old && old.key === key && old.node.data.node === n ? old.node : toNode(n, laid.layout, state, isSelected);
      next.set(n.id, { key, node });
      return node;
    });
    cache.current = next;
    return out;
  }, [laid, run, selected]);
  const edges = useMemo(() => (laid ? laid.graph.edges.map(toEdge) : []), [laid]);
  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => {
      // Enter or Space on a focused node selects it: open it like a click does.
      const picked = changes.find((c) => c.type === "select" && c.selected);
      if (picked && picked.type === "select") onSelect?.(picked.id);
    },
    [onSelect],
  );

  return (
    <div
      className="graph"
      ref={box}
      role="region"
      aria-label={label}
      data-testid="graph"
      data-nodes={laid?.graph.nodes.length ?? 0}
      data-layout-ms={measured === null ? undefined : measured.toFixed(1)}
    >
      {error && <p className="error">{error}</p>}
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_, node) => onSelect?.(node.id)}
        onPaneClick={() => onSelect?.(null)}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
        <FitOnResize target={box} />
        <Timing laid={laid} onMeasured={setMeasured} box={box} />
      </ReactFlow>
      {measured !== null && laid && (
        <p className="graph-caption">
          {laid.graph.nodes.length} steps laid out in {Math.round(measured)} ms
        </p>
      )}
    </div>
  );
}

export function WorkflowGraph(props: Props) {
  return (
    <ReactFlowProvider>
      <GraphInner {...props} />
    </ReactFlowProvider>
  );
}
