import type { NodeTypes } from "@xyflow/react";
import { NODE_TYPE } from "./graph";
import { OperatorNode } from "./OperatorNode";

// Defined once at module scope so React Flow never sees a new object.
export const nodeTypes: NodeTypes = { [NODE_TYPE]: OperatorNode };
