// Side effects of the editor: validation, drafts, the run websocket, keyboard shortcuts.
import { useEffect, useRef } from "react";
import { useStore, type StoreApi } from "zustand";
import { api, runPlanApi, runSocketUrl, SOCKET_CLOSE_FINAL } from "../api/client";
import type { Graph, RunMessage } from "../api/types";
import { addNavigationGuard } from "../lib/router";
import { toast } from "../ui/toast";
import { announceRun as announce, cancelRun, graphErrorsOf, savePipeline } from "./actions";
import { clearDraft, saveDraft } from "./drafts";
import { isRunActive } from "./runState";
import type { EditorStore } from "./store";

/** Validate the graph (debounced) whenever its meaning changes. */
export function useValidation(store: StoreApi<EditorStore>, delay = 400): void {
  useEffect(() => {
    let timer = 0;
    let ctrl: AbortController | null = null;
    const validate = () => {
      const s = store.getState();
      const key = s.semanticKey;
      ctrl?.abort();
      ctrl = new AbortController();
      s.setValidating(true);
      api
        .validate(s.pipelineId, s.getGraph(), ctrl.signal)
        .then((res) => {
          if (store.getState().semanticKey === key) store.getState().setValidation(res, key);
        })
        .catch((err) => {
          if (err instanceof DOMException && err.name === "AbortError") return;
          store.getState().setValidating(false);
          console.warn("validate failed", err);
        });
    };
    validate();
    const unsub = store.subscribe((s, prev) => {
      if (s.semanticKey === prev.semanticKey) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(validate, delay);
    });
    return () => {
      unsub();
      window.clearTimeout(timer);
      ctrl?.abort();
    };
  }, [store, delay]);
}

/**
 * Ask the server what a run would reuse and what it would recompute (debounced): when the graph
 * has validated without errors (so after each change of meaning) and when a run ends. Between
 * an edit and the answer, the store projects the last plan onto the edited graph.
 */
export function usePlan(store: StoreApi<EditorStore>, delay = 250): void {
  useEffect(() => {
    let timer = 0;
    let ctrl: AbortController | null = null;
    const plan = () => {
      const s = store.getState();
      if (isRunActive(s.run)) return; // planned again when it ends
      if (!s.nodes.length) {
        if (s.plan) s.setPlan(null);
        return;
      }
      // Only a graph the server accepted can be planned; until then the projection stands.
      if (s.validatedKey !== s.semanticKey || s.errors.length) return;
      const graph = s.getGraph();
      ctrl?.abort();
      const mine = (ctrl = new AbortController());
      runPlanApi
        .plan(s.pipelineId, graph, mine.signal)
        .then((res) => {
          // The store projects it onto whatever the graph has become since.
          if (!mine.signal.aborted) store.getState().setPlan(res.nodes ?? {}, graph);
        })
        .catch((err) => {
          if (err instanceof DOMException && err.name === "AbortError") return;
          if (graphErrorsOf(err)) store.getState().setPlan(null);
          else console.warn("plan failed", err);
        });
    };
    const schedule = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(plan, delay);
    };
    const unsub = store.subscribe((s, prev) => {
      const validated = s.validatedKey !== prev.validatedKey || s.errors !== prev.errors;
      const runEnded = isRunActive(prev.run) && !isRunActive(s.run);
      if (validated || runEnded || s.nodes.length !== prev.nodes.length) schedule();
    });
    schedule();
    return () => {
      unsub();
      window.clearTimeout(timer);
      ctrl?.abort();
    };
  }, [store, delay]);
}

/** Keep unsaved edits in localStorage; warn before leaving with unsaved changes. */
export function useDraftAndLeaveGuard(store: StoreApi<EditorStore>, paused: boolean): void {
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useEffect(() => {
    let timer = 0;
    const write = () => {
      const s = store.getState();
      if (pausedRef.current) return;
      if (s.dirty) saveDraft(s.pipelineId, s.getGraph(), s.version);
      else clearDraft(s.pipelineId);
    };
    const unsub = store.subscribe((s, prev) => {
      if (s.graphKey === prev.graphKey && s.dirty === prev.dirty) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(write, 500);
    });
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!store.getState().dirty) return;
      write();
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    const unguard = addNavigationGuard(() => store.getState().dirty);
    return () => {
      unsub();
      window.clearTimeout(timer);
      write();
      window.removeEventListener("beforeunload", onBeforeUnload);
      unguard();
    };
  }, [store]);
}

/**
 * Follow the current run over the websocket: snapshot first, then ordered messages. On a gap in
 * `seq` or a dropped socket, reconnect and take a fresh snapshot. Falls back to polling when the
 * socket cannot be opened at all.
 */
export function useRunSocket(store: StoreApi<EditorStore>): void {
  const runId = useRunIdWhileActive(store);
  useEffect(() => {
    if (runId === null) return;
    let ws: WebSocket | null = null;
    let closed = false;
    let attempts = 0;
    let retryTimer = 0;
    let pollTimer = 0;
    let everOpened = false;
    let lastMessageAt = Date.now();

    // Safety net: a quiet socket on an active run gets checked against the API now and then.
    const watchdog = window.setInterval(async () => {
      if (closed || Date.now() - lastMessageAt < 15_000) return;
      lastMessageAt = Date.now();
      try {
        const fresh = await api.run(runId);
        const current = store.getState().run;
        if (closed || !current || String(current.id) !== String(runId)) return;
        if ((fresh.seq ?? 0) > (current.seq ?? 0)) {
          store.getState().setRun(fresh);
          if (!isRunActive(fresh)) {
            announce(fresh);
            stop();
          }
        }
      } catch {
        /* try again later */
      }
    }, 5_000);

    const finished = () => !isRunActive(store.getState().run);

    const poll = async () => {
      try {
        const run = await api.run(runId);
        if (closed) return;
        if (String(store.getState().run?.id) === String(runId)) store.getState().setRun(run);
        if (!isRunActive(run)) {
          announce(run);
          stop();
          return;
        }
      } catch {
        /* keep trying */
      }
      if (!closed) pollTimer = window.setTimeout(poll, 2000);
    };

    const scheduleReconnect = () => {
      if (closed || finished()) return;
      attempts += 1;
      store.getState().setSocket("reconnecting");
      if (!everOpened && attempts >= 3) {
        // The socket never opened: follow the run by polling instead.
        store.getState().setSocket("closed");
        void poll();
        return;
      }
      const wait = Math.min(10_000, 500 * 2 ** Math.min(attempts, 5));
      retryTimer = window.setTimeout(connect, wait);
    };

    const connect = () => {
      if (closed) return;
      store.getState().setSocket(attempts ? "reconnecting" : "connecting");
      let sock: WebSocket;
      try {
        sock = new WebSocket(runSocketUrl(runId));
      } catch {
        scheduleReconnect();
        return;
      }
      ws = sock;
      sock.onopen = () => {
        everOpened = true;
        attempts = 0;
        store.getState().setSocket("open");
      };
      sock.onmessage = (ev) => {
        lastMessageAt = Date.now();
        let msg: RunMessage;
        try {
          msg = JSON.parse(String(ev.data)) as RunMessage;
        } catch {
          return;
        }
        const wasActive = isRunActive(store.getState().run);
        const { resync } = store.getState().applyRunMessage(msg);
        if (resync) {
          // Out of order: drop this socket; the reconnect starts with a fresh snapshot.
          sock.onclose = null;
          sock.close();
          ws = null;
          connect();
          return;
        }
        const run = store.getState().run;
        if (run && wasActive && !isRunActive(run)) {
          announce(run);
          stop();
        } else if (run && msg.type === "snapshot" && !isRunActive(run)) {
          stop();
        }
      };
      sock.onclose = (e) => {
        if (ws === sock) ws = null;
        if (SOCKET_CLOSE_FINAL.has(e.code)) {
          // Signed out, removed from the workspace or the run is gone: retrying cannot help.
          stop();
          return;
        }
        if (!closed) scheduleReconnect();
      };
      sock.onerror = () => {
        /* onclose follows */
      };
    };

    const stop = () => {
      closed = true;
      window.clearInterval(watchdog);
      window.clearTimeout(retryTimer);
      window.clearTimeout(pollTimer);
      if (ws) {
        ws.onclose = null;
        ws.close();
        ws = null;
      }
      store.getState().setSocket("closed");
    };

    connect();
    return stop;
  }, [runId, store]);
}

/** The id of the current run while it is active (null otherwise). */
function useRunIdWhileActive(store: StoreApi<EditorStore>): string | null {
  return useStore(store, (s) => (s.run && isRunActive(s.run) ? String(s.run.id) : null));
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "range", "color", "file"].includes(type);
  }
  return false;
}

const CLIPBOARD_KEY = "datagran:clipboard";
let clipboard: Graph | null = null;

export function useShortcuts(store: StoreApi<EditorStore>, opts: { disabled: boolean }): void {
  const disabledRef = useRef(opts.disabled);
  disabledRef.current = opts.disabled;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (disabledRef.current) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const s = store.getState();
      if (mod && key === "s") {
        e.preventDefault();
        void savePipeline(store);
        return;
      }
      if (isTyping(e.target)) return;
      if (document.querySelector(".modal-backdrop")) return;
      if (mod && key === "z") {
        e.preventDefault();
        if (e.shiftKey) s.redo();
        else s.undo();
      } else if (mod && key === "y") {
        e.preventDefault();
        s.redo();
      } else if (mod && key === "c") {
        const sub = s.copySelection();
        if (sub) {
          clipboard = sub;
          try {
            localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(sub));
          } catch {
            /* ignore */
          }
          toast(`Copied ${sub.nodes.length} node${sub.nodes.length === 1 ? "" : "s"}.`, "info", 1500);
        }
      } else if (mod && key === "x") {
        const sub = s.copySelection();
        if (sub) {
          clipboard = sub;
          s.deleteSelected();
        }
      } else if (mod && key === "v") {
        let sub = clipboard;
        if (!sub) {
          try {
            sub = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) ?? "null") as Graph | null;
          } catch {
            sub = null;
          }
        }
        if (sub) {
          e.preventDefault();
          s.paste(sub);
          // The next paste lands a bit further along.
          clipboard = {
            ...sub,
            nodes: sub.nodes.map((n) => ({ ...n, position: { x: n.position.x + 40, y: n.position.y + 40 } })),
          };
        }
      } else if (mod && key === "d") {
        e.preventDefault();
        s.duplicateSelection();
      } else if (mod && key === "a") {
        e.preventDefault();
        s.selectAll();
      } else if (!mod && (e.key === "Delete" || e.key === "Backspace")) {
        if (s.deleteSelected()) e.preventDefault();
      } else if (e.key === "Escape") {
        s.selectOnly([]);
      } else if (mod && e.key === "Enter") {
        e.preventDefault();
        if (isRunActive(s.run)) void cancelRun(store);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);
}
