import { Combobox } from "./Combobox";

/** Values as removable tags; type one (or several, comma-separated) and press Enter. With
 * suggestions, a list under the input offers them as you type. */
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
  return (
    <Combobox
      multiple
      id={id}
      value={value}
      onChange={onChange}
      placeholder={placeholder}
      itemType={itemType}
      choices={suggestions ?? null}
      freeText
    />
  );
}
