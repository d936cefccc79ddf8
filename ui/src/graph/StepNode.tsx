// How one step (or one loop group) is drawn in the graph.

import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { GraphNode, NodeRunState } from "./model";

export interface StepNodeData extends Record<string, unknown> {
  node: GraphNode;
  run?: NodeRunState;
  selectedStep?: boolean;
}

export type StepFlowNode = Node<StepNodeData, "step" | "loop">;

export function describeNode(node: GraphNode, run?: NodeRunState): string {
  const parts = [`step ${node.stepId}`, node.kind === "unknown" ? "no kind" : node.kind];
  if (node.detail && node.kind !== "script") parts.push(node.detail);
  if (run) parts.push(`status ${run.status}`);
  if (run?.iterations) parts.push(`${run.iterations.total} iterations`);
  return parts.join(", ");
}

function IterationCounts({ run }: { run?: NodeRunState }) {
  if (!run?.iterations || run.iterations.total === 0) return null;
  const ok = run.iterations.byStatus.succeeded ?? 0;
  return (
    <span className="node-iterations" title="iterations that ran this step (succeeded / all)">
      {ok}/{run.iterations.total}
    </span>
  );
}

function StepNodeView({ data }: NodeProps<StepFlowNode>) {
  const { node, run } = data;
  const status = run?.status ?? "none";
  return (
    <div
      className={`sy-node kind-${node.kind} status-${status}${node.isStart ? " start" : ""}`}
      data-testid={`node-${node.id}`}
      data-step={node.id}
      data-kind={node.kind}
      data-status={status}
      title={describeNode(node, run)}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="node-head">
        <span className="node-kind">{node.kind === "unknown" ? "?" : node.kind.replace("_", " ")}</span>
        {node.join && <span className="node-join">join {node.join}</span>}
        {run && <span className={`node-status status-${status}`}>{status}</span>}
      </div>
      <div className="node-id">{node.stepId}</div>
      {node.detail && node.kind !== "script" && <div className="node-detail">{node.detail}</div>}
      <IterationCounts run={run} />
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

function LoopNodeView({ data }: NodeProps<StepFlowNode>) {
  const { node, run } = data;
  const status = run?.status ?? "none";
  const iterations = run?.state?.iterations?.length;
  return (
    <div
      className={`sy-loop kind-${node.kind} status-${status}`}
      data-testid={`node-${node.id}`}
      data-step={node.id}
      data-kind={node.kind}
      data-status={status}
      title={describeNode(node, run)}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="loop-head">
        <span className="node-kind">{node.kind.replace("_", " ")}</span>
        <span className="node-id">{node.stepId}</span>
        {run && <span className={`node-status status-${status}`}>{status}</span>}
      </div>
      <div className="loop-detail node-detail">
        {iterations !== undefined && <span className="loop-iterations">{iterations} iterations · </span>}
        {node.detail}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

export const nodeTypes = { step: memo(StepNodeView), loop: memo(LoopNodeView) };
