// What a combobox does with what is typed, kept apart from the DOM so it can be tested: which
// choices match, what a typed entry adds, and what is refused.

/** The choices matching `text`: those starting with it first, then those containing it;
 * values already taken (the chips of a list) are left out. */
export function matchChoices(choices: readonly string[], text: string, taken: readonly unknown[] = []): string[] {
  const t = text.trim().toLowerCase();
  const free = choices.filter((c) => !taken.includes(c));
  if (!t) return free;
  const starts = free.filter((c) => c.toLowerCase().startsWith(t));
  const contains = free.filter((c) => !c.toLowerCase().startsWith(t) && c.toLowerCase().includes(t));
  return [...starts, ...contains];
}

/** The entries of typed text: comma-separated, trimmed, numbers for a number list. */
export function typedEntries(text: string, itemType?: string): unknown[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p) => (itemType === "number" || itemType === "integer") && !isNaN(Number(p)) ? Number(p) : p);
}

export interface Added {
  /** The list with the accepted entries appended (each once). */
  next: unknown[];
  /** Entries refused: not one of the choices where only those are allowed. */
  refused: string[];
}

/**
 * Adds typed entries to a list. Where only the choices are allowed (`freeText` false and the
 * choices known), an entry that is none of them is refused; a choice typed in another case
 * is taken as the choice.
 */
export function addEntries(
  value: readonly unknown[],
  entries: readonly unknown[],
  opts: { freeText: boolean; choices: readonly string[] | null },
): Added {
  const next = [...value];
  const refused: string[] = [];
  for (const e of entries) {
    let v = e;
    if (typeof e === "string" && opts.choices) {
      const exact = opts.choices.find((c) => c === e) ?? opts.choices.find((c) => c.toLowerCase() === e.toLowerCase());
      if (exact !== undefined) v = exact;
      else if (!opts.freeText) {
        refused.push(e);
        continue;
      }
    }
    if (!next.includes(v)) next.push(v);
  }
  return { next, refused };
}

/** What a refused entry reads as, under the field. */
export function refusedMessage(refused: readonly string[]): string | null {
  if (!refused.length) return null;
  const names = refused.map((r) => `“${r}”`).join(", ");
  return refused.length === 1 ? `${names} is not one of the choices.` : `${names} are not among the choices.`;
}
