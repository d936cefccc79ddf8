// Layered layout of a workflow graph with ELK: loops are compound nodes whose
// bodies are laid out inside them; positions come back relative to the parent,
// which is what @xyflow/react expects of child nodes.

import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { layeredLayout } from "./layered";
import type { Graph } from "./model";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 58;

export interface Positioned {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Layout = Map<string, Positioned>;

/** From this many nodes on, the quick built-in layered layout replaces ELK (docs/ui.md). */
export const ELK_MAX_NODES = Number(new URLSearchParams(location.search).get("elkMax") ?? 80);

// ELK is loaded on first use (1.5 MB of JavaScript), not with the page.
let elk: Promise<{ layout: (g: ElkNode) => Promise<ElkNode> }> | null = null;
function loadElk() {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default());
  return elk;
}

const ROOT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "50",
  "elk.spacing.nodeNode": "30",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.edgeRouting": "ORTHOGONAL",
};

const GROUP_OPTIONS: Record<string, string> = {
  ...ROOT_OPTIONS,
  "elk.padding": "[top=48,left=20,bottom=20,right=20]",
  // Room for the loop's header (kind, id, status) even around a one-step body.
  "elk.nodeSize.constraints": "MINIMUM_SIZE",
  "elk.nodeSize.minimum": "(260, 100)",
};

/** The layout of a large graph, computed right away (null: use `layoutGraph`, with ELK). */
export function quickLayout(graph: Graph): Layout | null {
  if (graph.nodes.length < ELK_MAX_NODES) return null;
  return layeredLayout(graph, {
      nodeWidth: NODE_WIDTH,
      nodeHeight: NODE_HEIGHT,
      layerGap: 50,
      nodeGap: 30,
      groupPadding: { top: 48, left: 20, bottom: 20, right: 20 },
      groupMinWidth: 260,
  });
}

export async function layoutGraph(graph: Graph): Promise<Layout> {
  return quickLayout(graph) ?? elkLayout(graph);
}

async function elkLayout(graph: Graph): Promise<Layout> {
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: "__root", layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  for (const node of graph.nodes) {
    const elkNode: ElkNode = node.isGroup
      ? { id: node.id, layoutOptions: GROUP_OPTIONS, children: [], edges: [] }
      : { id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT };
    elkNodes.set(node.id, elkNode);
    const parent = node.parent ? elkNodes.get(node.parent) : root;
    (parent ?? root).children!.push(elkNode);
  }
  for (const node of graph.nodes) {
    // An empty loop body still needs a size.
    const elkNode = elkNodes.get(node.id)!;
    if (node.isGroup && elkNode.children!.length === 0) {
      elkNode.width = NODE_WIDTH + 40;
      elkNode.height = NODE_HEIGHT + 20;
    }
  }
  for (const edge of graph.edges) {
    const container = edge.parent ? elkNodes.get(edge.parent) : root;
    const elkEdge: ElkExtendedEdge = { id: edge.id, sources: [edge.source], targets: [edge.target] };
    (container ?? root).edges!.push(elkEdge);
  }
  const result = await (await loadElk()).layout(root);
  const layout: Layout = new Map();
  const visit = (nodes: ElkNode[] | undefined) => {
    for (const n of nodes ?? []) {
      layout.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? NODE_WIDTH, height: n.height ?? NODE_HEIGHT });
      visit(n.children);
    }
  };
  visit(result.children);
  return layout;
}
