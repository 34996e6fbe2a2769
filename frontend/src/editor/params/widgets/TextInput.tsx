import { emptyValue, type Widget, type WidgetProps } from "../types";
import "../params.css";

/** text: one line, a password, or a text area for long text, SQL, expressions and pasted key
 * files (a secret one is hidden as it is typed). */
function TextInput({ id, field, value, onChange, invalid }: WidgetProps) {
  const text = typeof value === "string" ? value : "";
  const set = (v: string) => onChange(v === "" ? emptyValue(field) : v);
  const secret = field.format === "password";
  return field.multiline ? (
    <textarea
      id={id}
      rows={secret ? 6 : 4}
      className={secret ? "secret-text" : /sql|query|expression|json/i.test(field.key) ? "mono" : undefined}
      value={text}
      aria-invalid={invalid}
      autoComplete={secret ? "off" : undefined}
      spellCheck={secret ? false : undefined}
      placeholder={secret ? "Paste it here; it stays hidden." : undefined}
      onChange={(e) => set(e.target.value)}
    />
  ) : (
    <input
      id={id}
      type={secret ? "password" : "text"}
      value={text}
      placeholder={field.hasDefault && typeof field.default === "string" ? field.default : ""}
      aria-invalid={invalid}
      onChange={(e) => set(e.target.value)}
    />
  );
}

export const textWidget: Widget = { Control: TextInput };
