import { useState } from "react";
import { errorMessage } from "../../api/client";
import { useUpdatePipeline } from "../../api/queries";
import { toast } from "../../ui/toast";
import { useEditor, useEditorApi } from "../context";

/** The pipeline's name; click to rename (put back if the server refuses). */
export function PipelineName() {
  const store = useEditorApi();
  const name = useEditor((s) => s.name);
  const rename = useUpdatePipeline();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(name);

  const commit = async () => {
    setEditing(false);
    const next = text.trim();
    if (!next || next === name) return;
    const prev = name;
    store.getState().setMeta({ name: next });
    try {
      await rename.mutateAsync({ id: store.getState().pipelineId, name: next });
    } catch (err) {
      store.getState().setMeta({ name: prev });
      toast(`Could not rename: ${errorMessage(err)}`, "error");
    }
  };

  if (editing) {
    return (
      <input
        className="name-input"
        autoFocus
        value={text}
        aria-label="Pipeline name"
        maxLength={200}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") (e.target as HTMLInputElement).blur();
          if (e.key === "Escape") {
            setText(name);
            setEditing(false);
          }
        }}
      />
    );
  }
  return (
    <button
      className="name-button"
      title="Rename"
      onClick={() => {
        setText(name);
        setEditing(true);
      }}
    >
      {name}
    </button>
  );
}
