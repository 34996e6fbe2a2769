import type { NodeTypes } from "@xyflow/react";
import { FrameNode, NoteNode } from "./annotations/AnnotationNodes";
import { FRAME_TYPE, NOTE_TYPE } from "./annotations/annotations";
import { NODE_TYPE } from "./graph";
import { OperatorNode } from "./OperatorNode";

// Defined once at module scope so React Flow never sees a new object.
export const nodeTypes: NodeTypes = { [NODE_TYPE]: OperatorNode, [NOTE_TYPE]: NoteNode, [FRAME_TYPE]: FrameNode };
