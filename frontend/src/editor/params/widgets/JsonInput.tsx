import { useState } from "react";
import type { Widget, WidgetProps } from "../types";

/** json: anything else, edited as JSON text and parsed when the field is left. */
function JsonInput({ id, value, onChange, invalid }: WidgetProps) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <textarea
        id={id}
        className="mono"
        rows={4}
        value={text}
        aria-invalid={invalid || !!err}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          if (!text.trim()) {
            setErr(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(text));
            setErr(null);
          } catch {
            setErr("Not valid JSON.");
          }
        }}
      />
      {err && <p className="field-error">{err}</p>}
    </>
  );
}

export const jsonWidget: Widget = { Control: JsonInput };
