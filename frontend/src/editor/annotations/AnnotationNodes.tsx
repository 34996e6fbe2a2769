// The notes and frames on the canvas: React Flow node types drawn behind the operator nodes.
// A note is text on a coloured square, a frame a coloured area with a title; both are resized
// with NodeResizer and written in on double-click. Selected alone, either shows its palette.
import { NodeResizer, NodeToolbar, Position, type NodeProps } from "@xyflow/react";
import { Trash2 } from "lucide-react";
import { memo, useCallback, useEffect, useRef, type KeyboardEvent } from "react";
import { useEditor, useEditorApi } from "../context";
import {
  annotationIdOf,
  colorOf,
  COLOR_NAMES,
  MAX_SIZE,
  MAX_TEXT,
  MIN_CANVAS_SIZE,
  PALETTE,
  type AnnotationKind,
  type FrameNode as FrameNodeType,
  type NoteNode as NoteNodeType,
} from "./annotations";
import "./annotations.css";

function useAnnotationEditing(id: string) {
  const store = useEditorApi();
  const editing = useEditor((s) => s.editingAnnotation === id);
  const start = useCallback(() => store.getState().editAnnotation(id), [store, id]);
  const stop = useCallback(() => {
    if (store.getState().editingAnnotation === id) store.getState().editAnnotation(null);
  }, [store, id]);
  const setText = useCallback((text: string) => store.getState().setAnnotationText(id, text), [store, id]);
  const onResizeStart = useCallback(() => store.getState().commit(), [store]);
  return { editing, start, stop, setText, onResizeStart };
}

/** Escape or (in a title) Enter ends the editing; the keys stay out of the canvas's shortcuts. */
function onEditKey(e: KeyboardEvent<HTMLElement>, stop: () => void, enterEnds: boolean) {
  if (e.key === "Escape" || (enterEnds && e.key === "Enter")) {
    e.preventDefault();
    stop();
  }
}

const TOOLBAR_STYLE = { zIndex: 1100 } as const;
const RESIZER_COLOR = "var(--primary, #4f46e5)";

function Palette({ id, kind, color }: { id: string; kind: AnnotationKind; color: string }) {
  const store = useEditorApi();
  const what = kind === "note" ? "note" : "frame";
  return (
    // Above everything: React Flow would put it just above its node, which is behind the pane.
    <NodeToolbar position={Position.Top} offset={8} className="ann-toolbar" align="start" style={TOOLBAR_STYLE}>
      {COLOR_NAMES.map((name) => (
        <button
          key={name}
          type="button"
          className={`ann-swatch${name === color ? " active" : ""}`}
          style={{ background: PALETTE[name].fill, borderColor: PALETTE[name].border }}
          title={PALETTE[name].label}
          aria-label={`${PALETTE[name].label} ${what}`}
          aria-pressed={name === color}
          onClick={() => store.getState().setAnnotationColor(id, name)}
        />
      ))}
      <span className="ann-toolbar-sep" />
      <button
        type="button"
        className="ann-toolbar-btn"
        title={`Delete the ${what} (Delete)`}
        aria-label={`Delete ${what}`}
        onClick={() => store.getState().deleteAnnotations([id])}
      >
        <Trash2 size={13} />
      </button>
    </NodeToolbar>
  );
}

function NoteNodeImpl({ id, data, selected }: NodeProps<NoteNodeType>) {
  const { editing, start, stop, setText, onResizeStart } = useAnnotationEditing(id);
  const colors = colorOf(data.color);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (!editing || !ref.current) return;
    const el = ref.current;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, [editing]);
  return (
    <div
      className={`ann-note${selected ? " selected" : ""}${editing ? " editing" : ""}`}
      style={{ background: colors.fill, borderColor: colors.border }}
      data-testid="note"
      data-annotation-id={annotationIdOf(id)}
      data-color={data.color}
      onDoubleClick={editing ? undefined : start}
      title={editing ? undefined : "Double-click to write"}
    >
      <NodeResizer
        isVisible={selected && !editing}
        minWidth={MIN_CANVAS_SIZE.note.width}
        minHeight={MIN_CANVAS_SIZE.note.height}
        maxWidth={MAX_SIZE}
        maxHeight={MAX_SIZE}
        onResizeStart={onResizeStart}
        color={RESIZER_COLOR}
        handleClassName="ann-handle"
      />
      <Palette id={id} kind="note" color={data.color} />
      {editing ? (
        <textarea
          ref={ref}
          className="ann-note-text ann-note-input nodrag nopan nowheel"
          value={data.text}
          maxLength={MAX_TEXT}
          placeholder="Write a note…"
          aria-label="Note text"
          onChange={(e) => setText(e.target.value)}
          onBlur={stop}
          onKeyDown={(e) => onEditKey(e, stop, false)}
        />
      ) : (
        <div className={`ann-note-text${data.text ? "" : " empty"}`}>{data.text || "Double-click to write"}</div>
      )}
    </div>
  );
}

function FrameNodeImpl({ id, data, selected }: NodeProps<FrameNodeType>) {
  const { editing, start, stop, setText, onResizeStart } = useAnnotationEditing(id);
  const colors = colorOf(data.color);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) ref.current?.select();
  }, [editing]);
  return (
    <div
      className={`ann-frame${selected ? " selected" : ""}`}
      style={{ background: colors.tint, borderColor: colors.border }}
      data-testid="frame"
      data-annotation-id={annotationIdOf(id)}
      data-color={data.color}
    >
      <NodeResizer
        isVisible={selected && !editing}
        minWidth={MIN_CANVAS_SIZE.frame.width}
        minHeight={MIN_CANVAS_SIZE.frame.height}
        maxWidth={MAX_SIZE}
        maxHeight={MAX_SIZE}
        onResizeStart={onResizeStart}
        color={RESIZER_COLOR}
        handleClassName="ann-handle"
      />
      <Palette id={id} kind="frame" color={data.color} />
      <div
        className="ann-frame-title"
        style={{ background: colors.border }}
        onDoubleClick={editing ? undefined : start}
        title={editing ? undefined : "Drag to move the frame and what is in it; double-click to rename"}
      >
        {editing ? (
          <input
            ref={ref}
            className="ann-frame-input nodrag nopan"
            value={data.text}
            maxLength={200}
            placeholder="Frame title"
            aria-label="Frame title"
            onChange={(e) => setText(e.target.value)}
            onBlur={stop}
            onKeyDown={(e) => onEditKey(e, stop, true)}
          />
        ) : (
          <span className={data.text ? "" : "empty"}>{data.text || "Frame"}</span>
        )}
      </div>
    </div>
  );
}

export const NoteNode = memo(NoteNodeImpl);
export const FrameNode = memo(FrameNodeImpl);
