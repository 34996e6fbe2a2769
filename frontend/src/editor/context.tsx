import { createContext, useContext, type ReactNode } from "react";
import { useStore, type StoreApi } from "zustand";
import type { EditorStore } from "./store";

const EditorContext = createContext<StoreApi<EditorStore> | null>(null);

export function EditorProvider({
  store,
  children,
}: {
  store: StoreApi<EditorStore>;
  children: ReactNode;
}) {
  return <EditorContext.Provider value={store}>{children}</EditorContext.Provider>;
}

export function useEditorApi(): StoreApi<EditorStore> {
  const store = useContext(EditorContext);
  if (!store) throw new Error("useEditor must be used inside <EditorProvider>");
  return store;
}

/** Read from the editor store with a selector (re-renders only when the selection changes). */
export function useEditor<T>(selector: (s: EditorStore) => T): T {
  return useStore(useEditorApi(), selector);
}
