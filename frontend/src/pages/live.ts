// Websockets of the workspace pages: the workspace's run events, and one run's event stream.
// Both reconnect with backoff; the pages refetch (or take a snapshot) on every (re)connect.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, SOCKET_CLOSE_FINAL, wsUrl } from "../api/client";
import type { Run, LiveRunRow } from "../api/types";
import type { LiveState } from "./common";
import { applyRunEvent, type RunEvent } from "./runEvents";


interface SocketOptions {
  url: string | null;
  onMessage: (data: unknown, ws: WebSocket) => void;
  onOpen?: (reconnect: boolean) => void;
}

/** A websocket that comes back after a drop: 0.5 s, 1 s, 2 s … up to 10 s between tries. */
function useReconnectingSocket({ url, onMessage, onOpen }: SocketOptions): {
  state: LiveState;
  reconnectNow: () => void;
} {
  const [state, setState] = useState<LiveState>("connecting");
  const handlers = useRef({ onMessage, onOpen });
  handlers.current = { onMessage, onOpen };
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    if (!url) return;
    let ws: WebSocket | null = null;
    let timer = 0;
    let attempt = 0;
    let opened = false;
    let stopped = false;

    const connect = () => {
      if (stopped) return;
      window.clearTimeout(timer);
      setState(opened ? "offline" : "connecting");
      const sock = new WebSocket(url);
      ws = sock;
      sock.onopen = () => {
        if (ws !== sock) return;
        attempt = 0;
        setState("live");
        handlers.current.onOpen?.(opened);
        opened = true;
      };
      sock.onmessage = (e) => {
        if (ws !== sock) return;
        let data: unknown;
        try {
          data = JSON.parse(String(e.data));
        } catch {
          return;
        }
        handlers.current.onMessage(data, sock);
      };
      sock.onclose = (e) => {
        if (ws !== sock || stopped) return;
        ws = null;
        setState("offline");
        if (SOCKET_CLOSE_FINAL.has(e.code)) return;
        const delay = Math.min(10_000, 500 * 2 ** attempt);
        attempt += 1;
        timer = window.setTimeout(connect, delay);
      };
    };

    kick.current = () => {
      const old = ws;
      ws = null;
      old?.close();
      connect();
    };
    const onOnline = () => {
      if (!ws) connect();
    };
    window.addEventListener("online", onOnline);
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.removeEventListener("online", onOnline);
      const old = ws;
      ws = null;
      old?.close();
    };
  }, [url]);

  const reconnectNow = useCallback(() => kick.current(), []);
  return { state, reconnectNow };
}

/**
 * Run-level events of every run in the workspace. `onOpen` runs on every (re)connect: what
 * happened while disconnected is not replayed, so the page refetches then.
 */
export function useWorkspaceRuns(
  workspaceId: string | null,
  onRun: (run: LiveRunRow) => void,
  onOpen?: (reconnect: boolean) => void,
): LiveState {
  const { state } = useReconnectingSocket({
    url: workspaceId ? wsUrl(`/ws/workspaces/${encodeURIComponent(workspaceId)}/`) : null,
    onMessage: (data) => {
      const msg = data as { type?: string; run?: LiveRunRow };
      if (msg.type === "run" && msg.run?.id) onRun(msg.run);
    },
    onOpen,
  });
  return state;
}

/**
 * One run, live: the first message is a snapshot, then events in `seq` order. On a gap the
 * socket is dropped and reopened, which brings a fresh snapshot.
 */
export function useLiveRun(runId: string): {
  run: Run | null;
  error: string | null;
  state: LiveState;
  setRun: (run: Run) => void;
  reload: () => void;
} {
  const [run, setRunState] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = useRef<Run | null>(null);
  const resyncing = useRef(false);

  const setRun = useCallback((next: Run) => {
    // Never step back: an HTTP answer can be older than what the socket already said.
    if (current.current && next.seq < current.current.seq) return;
    current.current = next;
    setRunState(next);
  }, []);

  const load = useCallback(() => {
    api
      .run(runId)
      .then((r) => {
        setRun(r);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!current.current) setError(err instanceof Error ? err.message : String(err));
      });
  }, [runId, setRun]);

  useEffect(() => {
    current.current = null;
    setRunState(null);
    setError(null);
    load();
  }, [load]);

  const { state, reconnectNow } = useReconnectingSocket({
    url: wsUrl(`/ws/runs/${encodeURIComponent(runId)}/`),
    onMessage: (data) => {
      const msg = data as RunEvent;
      if (!msg || typeof msg !== "object" || typeof msg.seq !== "number") return;
      if (msg.type === "snapshot") resyncing.current = false;
      if (resyncing.current) return;
      const out = applyRunEvent(current.current, msg);
      if (out.resync) {
        resyncing.current = true;
        reconnectNow();
        return;
      }
      if (out.run && out.run !== current.current) {
        current.current = out.run;
        setRunState(out.run);
      }
    },
  });

  return { run, error, state, setRun, reload: load };
}
