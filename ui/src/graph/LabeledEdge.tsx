// An edge with its label as plain SVG text: React Flow's own labels measure
// their text (getBBox) one by one, which costs a forced layout per label on
// large graphs. A white halo (paint-order stroke) stands in for a background.

import { BaseEdge, getSmoothStepPath, type Edge, type EdgeProps } from "@xyflow/react";
import { memo } from "react";

export type LabeledEdgeData = { color: string };
type LabeledEdgeType = Edge<LabeledEdgeData, "labeled">;

function LabeledEdgeView(props: EdgeProps<LabeledEdgeType>) {
  const { sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, label, style, markerEnd, data } = props;
  const [path, labelX, labelY] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  return (
    <>
      <BaseEdge path={path} markerEnd={markerEnd} style={style} />
      {label && (
        <text x={labelX} y={labelY} className="edge-label" fill={data?.color} textAnchor="middle" dominantBaseline="middle">
          {label}
        </text>
      )}
    </>
  );
}

export const edgeTypes = { labeled: memo(LabeledEdgeView) };
