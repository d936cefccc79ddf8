// A small layered (Sugiyama-style) layout for large graphs: longest-path
// layers, dummy nodes on long edges, barycenter ordering sweeps, and x
// positions pulled toward neighbours. Linear-ish in the graph's size: a
// 200-step workflow takes a few milliseconds, where ELK takes about a second
// on a small machine (see docs/ui.md). Loops are laid out inside out, so a
// group's size is known before its scope is laid out.

import type { Graph } from "./model";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayeredOptions {
  nodeWidth: number;
  nodeHeight: number;
  layerGap: number;
  nodeGap: number;
  groupPadding: { top: number; left: number; bottom: number; right: number };
  groupMinWidth: number;
}

interface Item {
  id: string;
  width: number;
  height: number;
  dummy: boolean;
  layer: number;
  order: number;
  x: number;
  up: Item[];
  down: Item[];
}

/** Lays out one scope (its nodes' sizes known); returns positions relative to the scope's origin. */
function layoutScope(
  ids: string[],
  sizes: Map<string, { width: number; height: number }>,
  edges: [string, string][],
  o: LayeredOptions,
): { boxes: Map<string, Box>; width: number; height: number } {
  const items = new Map<string, Item>();
  for (const id of ids) {
    const s = sizes.get(id)!;
    items.set(id, { id, width: s.width, height: s.height, dummy: false, layer: 0, order: 0, x: 0, up: [], down: [] });
  }
  // Drop edges that close a cycle (the validator reports them; the drawing must still work).
  const out = new Map<string, string[]>();
  for (const [a, b] of edges) if (items.has(a) && items.has(b) && a !== b) (out.get(a) ?? out.set(a, []).get(a)!).push(b);
  const state = new Map<string, number>(); // 1: on the stack, 2: done
  const order: string[] = [];
  const kept: [string, string][] = [];
  const visit = (start: string) => {
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = out.get(top[0]) ?? [];
      if (top[1] < next.length) {
        const to = next[top[1]++];
        const s = state.get(to);
        if (s === 1) continue; // a back edge
        kept.push([top[0], to]);
        if (!s) {
          state.set(to, 1);
          stack.push([to, 0]);
        }
      } else {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  order.reverse(); // a topological order

  // Longest-path layering from the sources.
  const incoming = new Map<string, string[]>();
  for (const [a, b] of kept) (incoming.get(b) ?? incoming.set(b, []).get(b)!).push(a);
  for (const id of order) {
    const item = items.get(id)!;
    for (const p of incoming.get(id) ?? []) item.layer = Math.max(item.layer, items.get(p)!.layer + 1);
  }
  // Edges spanning several layers go through dummy nodes, so ordering sees them.
  let dummies = 0;
  for (const [a, b] of kept) {
    let from = items.get(a)!;
    const to = items.get(b)!;
    for (let l = from.layer + 1; l < to.layer; l++) {
      const d: Item = { id: `~${dummies++}`, width: 16, height: 0, dummy: true, layer: l, order: 0, x: 0, up: [from], down: [] };
      from.down.push(d);
      items.set(d.id, d);
      from = d;
    }
    from.down.push(to);
    to.up.push(from);
  }
  const layers: Item[][] = [];
  // Start from the definition's order (the sweeps keep it where they can).
  for (const id of ids) {
    const item = items.get(id)!;
    (layers[item.layer] ??= []).push(item);
  }
  for (const item of items.values()) if (item.dummy) (layers[item.layer] ??= []).push(item);
  layers.forEach((layer) => layer.forEach((it, i) => (it.order = i)));

  // Barycenter sweeps, down then up.
  const bary = (it: Item, side: Item[]) => (side.length ? side.reduce((s, n) => s + n.order, 0) / side.length : it.order);
  for (let sweep = 0; sweep < 6; sweep++) {
    const down = sweep % 2 === 0;
    const range = down ? layers.keys() : [...layers.keys()].reverse();
    for (const l of range) {
      const layer = layers[l];
      if (!layer) continue;
      const keys = new Map(layer.map((it) => [it, bary(it, down ? it.up : it.down)]));
      layer.sort((a, b) => keys.get(a)! - keys.get(b)! || a.order - b.order);
      layer.forEach((it, i) => (it.order = i));
    }
  }

  // x: packed left to right, then pulled toward neighbours' centres without overlapping.
  const gap = (a: Item, b: Item) => (a.dummy || b.dummy ? o.nodeGap / 2 : o.nodeGap);
  for (const layer of layers) {
    if (!layer) continue;
    let x = 0;
    for (let i = 0; i < layer.length; i++) {
      layer[i].x = x;
      x += layer[i].width + (i + 1 < layer.length ? gap(layer[i], layer[i + 1]) : 0);
    }
  }
  const centre = (it: Item) => it.x + it.width / 2;
  const pull = (layer: Item[], side: (it: Item) => Item[]) => {
    const want = layer.map((it) => {
      const ns = side(it);
      return ns.length ? ns.reduce((s, n) => s + centre(n), 0) / ns.length - it.width / 2 : it.x;
    });
    // Each node at its wish, packed once from the left and once from the right;
    // the average of both, then overlaps removed from the left.
    const n = layer.length;
    const a = new Array<number>(n);
    const b = new Array<number>(n);
    for (let i = 0; i < n; i++) a[i] = i ? Math.max(want[i], a[i - 1] + layer[i - 1].width + gap(layer[i - 1], layer[i])) : want[i];
    for (let i = n - 1; i >= 0; i--) b[i] = i < n - 1 ? Math.min(want[i], b[i + 1] - gap(layer[i], layer[i + 1]) - layer[i].width) : want[i];
    for (let i = 0; i < n; i++) {
      const x = (a[i] + b[i]) / 2;
      layer[i].x = i ? Math.max(x, layer[i - 1].x + layer[i - 1].width + gap(layer[i - 1], layer[i])) : x;
    }
  };
  for (let round = 0; round < 4; round++) {
    for (let l = 1; l < layers.length; l++) if (layers[l]) pull(layers[l], (it) => it.up);
    for (let l = layers.length - 2; l >= 0; l--) if (layers[l]) pull(layers[l], (it) => it.down);
  }

  // Shift to the origin; y by layers.
  let minX = Infinity;
  let maxX = -Infinity;
  for (const it of items.values()) {
    minX = Math.min(minX, it.x);
    maxX = Math.max(maxX, it.x + it.width);
  }
  const boxes = new Map<string, Box>();
  let y = 0;
  for (const layer of layers) {
    if (!layer) continue;
    const h = Math.max(...layer.map((it) => it.height), 0);
    for (const it of layer) if (!it.dummy) boxes.set(it.id, { x: it.x - minX, y, width: it.width, height: it.height });
    y += h + o.layerGap;
  }
  return { boxes, width: items.size ? maxX - minX : 0, height: Math.max(y - o.layerGap, 0) };
}

/** Positions of every node, children relative to their loop group (as React Flow wants). */
export function layeredLayout(graph: Graph, o: LayeredOptions): Map<string, Box> {
  const byParent = new Map<string | undefined, string[]>();
  for (const n of graph.nodes) (byParent.get(n.parent) ?? byParent.set(n.parent, []).get(n.parent)!).push(n.id);
  const edgesIn = new Map<string | undefined, [string, string][]>();
  for (const e of graph.edges) (edgesIn.get(e.parent) ?? edgesIn.set(e.parent, []).get(e.parent)!).push([e.source, e.target]);
  const sizes = new Map<string, { width: number; height: number }>();
  const result = new Map<string, Box>();
  const p = o.groupPadding;

  const groups = new Set(graph.nodes.filter((n) => n.isGroup).map((n) => n.id));

  const scope = (parent: string | undefined): { width: number; height: number } => {
    const ids = byParent.get(parent) ?? [];
    for (const id of ids) {
      if (groups.has(id)) {
        const inner = scope(id);
        const width = Math.max(inner.width + p.left + p.right, o.groupMinWidth);
        sizes.set(id, { width, height: Math.max(inner.height + p.top + p.bottom, o.nodeHeight + p.top) });
        // Centre a narrow body in a group kept wide for its header.
        const shift = (width - inner.width - p.left - p.right) / 2;
        for (const child of byParent.get(id) ?? []) {
          const b = result.get(child)!;
          result.set(child, { ...b, x: b.x + p.left + shift, y: b.y + p.top });
        }
      } else {
        sizes.set(id, { width: o.nodeWidth, height: o.nodeHeight });
      }
    }
    const laid = layoutScope(ids, sizes, edgesIn.get(parent) ?? [], o);
    for (const [id, box] of laid.boxes) result.set(id, box);
    return { width: laid.width, height: laid.height };
  };
  scope(undefined);
  return result;
}
