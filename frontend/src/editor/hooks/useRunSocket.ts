// Follows the current run over its websocket, with polling as the fallback.
import { useEffect } from "react";
import { useStore, type StoreApi } from "zustand";
import { api, runSocketUrl, SOCKET_CLOSE_FINAL } from "../../api/client";
import type { RunMessage } from "../../api/types";
import { runEnded } from "../actions";
import { isRunActive } from "../runState";
import type { EditorStore } from "../store";

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
            runEnded(fresh);
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
          runEnded(run);
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
          runEnded(run);
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
