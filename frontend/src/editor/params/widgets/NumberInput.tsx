import { useEffect, useState } from "react";
import { boundsHint, outOfRange } from "../hints";
import { emptyValue, type Widget, type WidgetProps } from "../types";

/** integer and number: keeps the text as typed, stores the number. */
function NumberInput({ id, field, value, onChange, invalid }: WidgetProps) {
  const [text, setText] = useState(value === null || value === undefined ? "" : String(value));
  useEffect(() => {
    const parsed = text.trim() === "" ? undefined : Number(text);
    if ((value ?? undefined) !== parsed) setText(value === null || value === undefined ? "" : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      type="number"
      inputMode={field.kind === "integer" ? "numeric" : "decimal"}
      min={field.min}
      max={field.max}
      step={field.step ?? "any"}
      value={text}
      placeholder={field.hasDefault && field.default != null ? String(field.default) : ""}
      aria-invalid={invalid}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === "") onChange(emptyValue(field));
        else if (!isNaN(Number(t))) onChange(field.kind === "integer" ? Math.trunc(Number(t)) : Number(t));
      }}
    />
  );
}

export const numberWidget: Widget = { Control: NumberInput, hint: boundsHint, hintBad: outOfRange };
