import { X } from "lucide-react";
import { useId, useState } from "react";

/** Values as removable tags; type one (or several, comma-separated) and press Enter. */
export function TagInput({
  id,
  value,
  onChange,
  placeholder,
  suggestions,
  itemType,
}: {
  id: string;
  value: unknown[];
  onChange: (v: unknown[]) => void;
  placeholder?: string;
  suggestions?: string[];
  itemType?: string;
}) {
  const [text, setText] = useState("");
  const listId = useId();
  const add = () => {
    const parts = text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!parts.length) return;
    const vals = parts.map((p) =>
      itemType === "number" || itemType === "integer" ? (isNaN(Number(p)) ? p : Number(p)) : p,
    );
    onChange([...value, ...vals.filter((v) => !value.includes(v))]);
    setText("");
  };
  return (
    <div className="tag-input">
      {value.map((v, i) => (
        <span className="tag" key={`${String(v)}-${i}`}>
          {String(v)}
          <button
            type="button"
            aria-label={`Remove ${String(v)}`}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          >
            <X size={11} />
          </button>
        </span>
      ))}
      <input
        id={id}
        value={text}
        list={suggestions?.length ? listId : undefined}
        placeholder={value.length ? "" : placeholder}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === ",") {
            e.preventDefault();
            add();
          } else if (e.key === "Backspace" && !text && value.length) {
            onChange(value.slice(0, -1));
          }
        }}
        onBlur={add}
      />
      {suggestions?.length ? (
        <datalist id={listId}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      ) : null}
    </div>
  );
}
