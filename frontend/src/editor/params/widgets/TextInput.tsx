import { emptyValue, type Widget, type WidgetProps } from "../types";

/** text: one line, a password, or a text area for long text, SQL and expressions. */
function TextInput({ id, field, value, onChange, invalid }: WidgetProps) {
  const text = typeof value === "string" ? value : "";
  const set = (v: string) => onChange(v === "" ? emptyValue(field) : v);
  return field.multiline ? (
    <textarea
      id={id}
      rows={4}
      className={/sql|query|expression/i.test(field.key) ? "mono" : undefined}
      value={text}
      aria-invalid={invalid}
      onChange={(e) => set(e.target.value)}
    />
  ) : (
    <input
      id={id}
      type={field.format === "password" ? "password" : "text"}
      value={text}
      placeholder={field.hasDefault && typeof field.default === "string" ? field.default : ""}
      aria-invalid={invalid}
      onChange={(e) => set(e.target.value)}
    />
  );
}

export const textWidget: Widget = { Control: TextInput };
