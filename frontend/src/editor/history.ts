// A pure undo/redo stack of snapshots.

export interface History<T> {
  past: readonly T[];
  future: readonly T[];
}

export const HISTORY_LIMIT = 100;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [] };
}

/** Remember `present` before it is changed; a new edit forgets what could be redone. */
export function record<T>(h: History<T>, present: T, limit = HISTORY_LIMIT): History<T> {
  const past = [...h.past, present];
  return { past: past.length > limit ? past.slice(past.length - limit) : past, future: [] };
}

export function canUndo<T>(h: History<T>): boolean {
  return h.past.length > 0;
}

export function canRedo<T>(h: History<T>): boolean {
  return h.future.length > 0;
}

export function undo<T>(h: History<T>, present: T): { history: History<T>; present: T } | null {
  if (h.past.length === 0) return null;
  const previous = h.past[h.past.length - 1];
  return {
    history: { past: h.past.slice(0, -1), future: [present, ...h.future] },
    present: previous,
  };
}

export function redo<T>(h: History<T>, present: T): { history: History<T>; present: T } | null {
  if (h.future.length === 0) return null;
  const [next, ...rest] = h.future;
  return { history: { past: [...h.past, present], future: rest }, present: next };
}
