import { useState } from "react";
import { choicesBy, getIn, pathKey } from "../../schemaForm";
import { Combobox } from "../parts/Combobox";
import { useSourceOptions } from "../sourceOptions";
import { emptyValue, type FormContext, type Widget, type WidgetProps } from "../types";
import type { Path } from "../../schemaForm";

/** The params next to a field (the node's params, or the object a nested field is in). */
function siblingsOf(path: Path, ctx: FormContext): Record<string, unknown> | undefined {
  const v = path.length > 1 ? getIn(ctx.params, path.slice(0, -1)) : ctx.params;
  return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
}

/**
 * choice and choice-list: one value or several (chips) from suggested choices: fixed lists by
 * another param's value (HubSpot properties by resource), or the operator's own answer for the
 * params so far (a database's tables), fetched when the list opens. Typed values are taken
 * where the field allows them (x-free-text).
 */
function ChoiceInput({ id, field, path, value, onChange, invalid, ctx }: WidgetProps) {
  const fromSource = field.choices?.from === "source";
  const [asked, setAsked] = useState(false);
  const remote = useSourceOptions(ctx.op.name, pathKey(path), ctx.params, fromSource && asked);
  const choices = fromSource ? remote.choices : choicesBy(field, siblingsOf(path, ctx));
  const common = {
    id,
    choices,
    loading: fromSource && remote.loading,
    freeText: !!field.freeText,
    invalid,
    onOpen: fromSource ? () => setAsked(true) : undefined,
    emptyNote: fromSource ? "Nothing to choose from with these settings." : undefined,
  };
  return (
    <>
      {field.kind === "choice-list" ? (
        <Combobox
          {...common}
          multiple
          value={Array.isArray(value) ? value : []}
          onChange={onChange}
          placeholder={field.freeText ? "Pick or type a name, then Enter" : "Pick from the list"}
        />
      ) : (
        <Combobox
          {...common}
          multiple={false}
          value={typeof value === "string" ? value : value === undefined || value === null ? undefined : String(value)}
          onChange={(v) => onChange(v === undefined ? emptyValue(field) : v)}
          placeholder={field.freeText ? "Pick or type a name" : "Pick from the list"}
        />
      )}
      {remote.error && (
        <p className="field-error" role="alert" data-testid="options-error">
          {remote.error}
        </p>
      )}
    </>
  );
}

export const choiceWidget: Widget = { Control: ChoiceInput };
