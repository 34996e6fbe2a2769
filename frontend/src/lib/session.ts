// Who is signed in and which workspace is active.
import { create } from "zustand";
import { setApiWorkspace } from "../api/client";
import type { Workspace } from "../api/types";

const WS_KEY = "datagran:workspace";

interface SessionState {
  username: string;
  workspaces: Workspace[];
  workspaceId: string | null;
  loaded: boolean;
  setWorkspaces(list: Workspace[]): void;
  setWorkspace(id: string): void;
}

export const useSession = create<SessionState>((set) => ({
  username: "",
  workspaces: [],
  workspaceId: null,
  loaded: false,
  setWorkspaces: (list) => {
    const stored = safeGet(WS_KEY);
    const pick = list.find((w) => String(w.id) === stored) ?? list[0];
    const id = pick ? String(pick.id) : null;
    setApiWorkspace(id);
    set({ workspaces: list, workspaceId: id, loaded: true });
  },
  setWorkspace: (id) => {
    safeSet(WS_KEY, id);
    setApiWorkspace(id);
    set({ workspaceId: id });
  },
}));

export function safeGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function safeSet(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage full or disabled: drafts are best-effort */
  }
}

export function safeRemove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    /* ignore */
  }
}
