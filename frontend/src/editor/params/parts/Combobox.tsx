// A text input with a list of choices under it: one value, or several as chips. Typing filters
// the choices; Enter or a click takes one; where the field allows it (x-free-text, or choices
// that could not be loaded) Enter takes what was typed too.
import { X } from "lucide-react";
import { useId, useState, type KeyboardEvent } from "react";
import { addEntries, matchChoices, refusedMessage, typedEntries } from "./combobox";
import "../params.css";

interface Common {
  id: string;
  /** The choices; null while none are known (not asked yet, loading, or failed). */
  choices: readonly string[] | null;
  loading?: boolean;
  /** Values that are none of the choices are taken too. */
  freeText: boolean;
  placeholder?: string;
  invalid?: boolean;
  /** Called when the list opens (a field whose choices are fetched asks for them then). */
  onOpen?: () => void;
  /** Said in the open list when there is no choice to show. */
  emptyNote?: string;
}

type Props =
  | (Common & { multiple: true; value: readonly unknown[]; onChange: (v: unknown[]) => void; itemType?: string })
  | (Common & { multiple: false; value: string | undefined; onChange: (v: string | undefined) => void });

export function Combobox(props: Props) {
  const { id, choices, loading, freeText, placeholder, invalid, onOpen, emptyNote } = props;
  const listId = useId();
  const [text, setText] = useState("");
  // One value: the input shows it until the user types (then the typed text filters).
  const [editing, setEditing] = useState(false);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [problem, setProblem] = useState<string | null>(null);
  // Unknown choices (not loaded, failed) refuse nothing: the server checks the value.
  const allowTyped = freeText || choices === null;

  const taken = props.multiple ? props.value : [];
  const filter = props.multiple || editing ? text : "";
  const options = matchChoices(choices ?? [], filter, taken);

  const openList = () => {
    if (!open) {
      setOpen(true);
      onOpen?.();
    }
  };
  const close = () => {
    setOpen(false);
    setActive(-1);
  };

  /** Takes entries (typed or picked); true when all were taken. */
  const take = (entries: unknown[]): boolean => {
    if (props.multiple) {
      const { next, refused } = addEntries(props.value, entries, { freeText: allowTyped, choices });
      if (next.length !== props.value.length) props.onChange(next);
      setProblem(refusedMessage(refused));
      setText(refused.join(", "));
      setActive(-1);
      return refused.length === 0;
    }
    const entry = entries.length ? String(entries[0]) : "";
    if (!entry) {
      props.onChange(undefined);
      setProblem(null);
      setEditing(false);
      return true;
    }
    const { next, refused } = addEntries([], [entry], { freeText: allowTyped, choices });
    setProblem(refusedMessage(refused));
    if (refused.length) return false;
    props.onChange(String(next[0]));
    setEditing(false);
    setText("");
    return true;
  };

  const commitTyped = (): boolean => {
    if (props.multiple) return text.trim() ? take(typedEntries(text, props.itemType)) : true;
    if (!editing) return true;
    return take([text.trim()]);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      openList();
      if (!options.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive((a) => (a < 0 ? (step > 0 ? 0 : options.length - 1) : (a + step + options.length) % options.length));
    } else if (e.key === "Enter") {
      e.preventDefault();
      const picked = active >= 0 ? options[active] : undefined;
      if (picked !== undefined) {
        take([picked]);
        if (!props.multiple) close();
      } else if (commitTyped() && !props.multiple) close();
    } else if (e.key === "," && props.multiple) {
      e.preventDefault();
      commitTyped();
    } else if (e.key === "Escape" && open) {
      e.stopPropagation();
      close();
    } else if (e.key === "Backspace" && props.multiple && !text && props.value.length) {
      props.onChange(props.value.slice(0, -1));
    }
  };

  const shownText = props.multiple || editing ? text : (props.value ?? "");
  const note = loading
    ? "Loading…"
    : options.length
      ? null
      : filter.trim() && allowTyped
        ? `Enter takes “${filter.trim()}”.`
        : filter.trim()
          ? "No choice matches."
          : choices === null
            ? (emptyNote ?? "No choices known; type a value.")
            : choices.length && props.multiple
              ? "All the choices are taken."
              : (emptyNote ?? "No choices.");

  return (
    <div className="combo" data-open={open ? "true" : undefined}>
      <div className={props.multiple ? "tag-input combo-box" : "combo-box combo-single"}>
        {props.multiple &&
          props.value.map((v, i) => (
            <span className="tag" key={`${String(v)}-${i}`}>
              {String(v)}
              <button
                type="button"
                aria-label={`Remove ${String(v)}`}
                onClick={() => props.onChange(props.value.filter((_, j) => j !== i))}
              >
                <X size={11} />
              </button>
            </span>
          ))}
        <input
          id={id}
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
          aria-invalid={invalid || !!problem}
          autoComplete="off"
          spellCheck={false}
          value={shownText}
          placeholder={props.multiple && props.value.length ? "" : placeholder}
          onFocus={openList}
          onClick={openList}
          onChange={(e) => {
            setText(e.target.value);
            setEditing(true);
            setActive(allowTyped ? -1 : 0);
            setProblem(null);
            openList();
          }}
          onKeyDown={onKeyDown}
          onBlur={() => {
            if (!commitTyped() && !props.multiple) {
              // Not a choice: the field keeps its value; the message says why.
              setEditing(false);
              setText("");
            }
            close();
          }}
        />
      </div>
      {open && (loading || choices !== null) && (
        <ul className="combo-list" role="listbox" id={listId} aria-label="Choices">
          {!loading &&
            options.map((o, i) => (
              <li
                key={o}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active || (!props.multiple && o === props.value)}
                className={i === active ? "combo-option is-active" : "combo-option"}
                // Keeps the focus in the input (a blur would take the typed text first).
                onMouseDown={(e) => e.preventDefault()}
                onMouseEnter={() => setActive(i)}
                onClick={() => {
                  take([o]);
                  if (!props.multiple) close();
                }}
              >
                {o}
              </li>
            ))}
          {note && <li className="combo-note">{note}</li>}
        </ul>
      )}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
