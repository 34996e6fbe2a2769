// A small picture of a pipeline's graph: its nodes where they sit on the canvas, coloured by
// category, and its edges. Drawn from the positions alone (no params), so the template
// gallery can show every template at once.
import { useMemo } from "react";
import { THUMB_NODE, thumbnailOf, type Thumbnail } from "./gallery";

type Outline = Parameters<typeof thumbnailOf>[0];

export function GraphThumbnail({ graph, label }: { graph: Outline; label: string }) {
  const picture: Thumbnail = useMemo(() => thumbnailOf(graph), [graph]);
  return (
    <svg
      className="graph-thumb"
      viewBox={picture.viewBox}
      preserveAspectRatio="xMidYMid meet"
      role="img"
      aria-label={label}
      data-testid="graph-thumbnail"
      data-nodes={picture.nodes.length}
      data-edges={picture.edges.length}
    >
      {picture.edges.map((d, i) => (
        <path key={i} d={d} className="graph-thumb-edge" vectorEffect="non-scaling-stroke" />
      ))}
      {picture.nodes.map((n) => (
        <g key={n.id} className={`graph-thumb-node cat-${n.category}`}>
          <title>{n.title}</title>
          <rect
            x={n.x}
            y={n.y}
            width={THUMB_NODE.width}
            height={THUMB_NODE.height}
            rx={12}
            vectorEffect="non-scaling-stroke"
          />
          <rect className="graph-thumb-accent" x={n.x} y={n.y} width={22} height={THUMB_NODE.height} rx={8} />
        </g>
      ))}
    </svg>
  );
}
