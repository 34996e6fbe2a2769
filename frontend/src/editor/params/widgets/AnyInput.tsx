import { useEffect, useState } from "react";
import { coerceAny, formatAny } from "../../schemaForm";
import type { Widget, WidgetProps } from "../types";

/** any: free input for an untyped value; keeps the text as typed, stores the parsed value. */
function AnyInput({ id, value, onChange, invalid }: WidgetProps) {
  const [text, setText] = useState(formatAny(value));
  useEffect(() => {
    if (JSON.stringify(coerceAny(text)) !== JSON.stringify(value ?? null)) setText(formatAny(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      value={text}
      aria-invalid={invalid}
      placeholder="Text, a number, true/false, or a list like [1, 2]"
      onChange={(e) => {
        setText(e.target.value);
        onChange(coerceAny(e.target.value));
      }}
    />
  );
}

export const anyWidget: Widget = { Control: AnyInput };
