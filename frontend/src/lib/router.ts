// A tiny client-side router: pathname → route, pushState navigation, and navigation guards.
import { useSyncExternalStore } from "react";
import { create } from "zustand";

export type Route =
  | { name: "overview" }
  | { name: "pipelines" }
  | { name: "editor"; id: string }
  | { name: "dashboard"; id: string }
  | { name: "deploy"; id: string }
  | { name: "runs" }
  | { name: "run"; id: string }
  | { name: "models" }
  | { name: "model"; id: string }
  | { name: "modelVersion"; id: string; version: number }
  | { name: "connections" }
  | { name: "datasets" }
  | { name: "settings"; tab: string }
  | { name: "notfound"; path: string };

export type RouteName = Route["name"];

const PATTERNS: [RegExp, (m: string[]) => Route][] = [
  [/^\/$/, () => ({ name: "overview" })],
  [/^\/pipelines$/, () => ({ name: "pipelines" })],
  [/^\/pipelines\/([^/]+)$/, (m) => ({ name: "editor", id: m[0] })],
  [/^\/pipelines\/([^/]+)\/dashboard$/, (m) => ({ name: "dashboard", id: m[0] })],
  [/^\/pipelines\/([^/]+)\/deploy$/, (m) => ({ name: "deploy", id: m[0] })],
  [/^\/runs$/, () => ({ name: "runs" })],
  [/^\/runs\/([^/]+)$/, (m) => ({ name: "run", id: m[0] })],
  [/^\/models$/, () => ({ name: "models" })],
  [/^\/models\/([^/]+)$/, (m) => ({ name: "model", id: m[0] })],
  [
    /^\/models\/([^/]+)\/versions\/(\d+)$/,
    (m) => ({ name: "modelVersion", id: m[0], version: Number(m[1]) }),
  ],
  [/^\/connections$/, () => ({ name: "connections" })],
  [/^\/datasets$/, () => ({ name: "datasets" })],
  [/^\/members$/, () => ({ name: "settings", tab: "members" })],
  [/^\/settings$/, () => ({ name: "settings", tab: "members" })],
  [/^\/settings\/([a-z-]+)$/, (m) => ({ name: "settings", tab: m[0] })],
];

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  for (const [re, make] of PATTERNS) {
    const m = re.exec(path);
    if (m) {
      try {
        return make(m.slice(1).map(decodeURIComponent));
      } catch {
        break; // a malformed %-escape
      }
    }
  }
  return { name: "notfound", path };
}

/** Which top-bar section a route belongs to. */
export function sectionOf(
  route: Route,
): "overview" | "pipelines" | "runs" | "models" | "connections" | "datasets" | "settings" | null {
  switch (route.name) {
    case "overview":
      return "overview";
    case "pipelines":
    case "editor":
    case "dashboard":
    case "deploy":
      return "pipelines";
    case "runs":
    case "run":
      return "runs";
    case "models":
    case "model":
    case "modelVersion":
      return "models";
    case "connections":
    case "datasets":
    case "settings":
      return route.name;
    default:
      return null;
  }
}

const listeners = new Set<() => void>();

function emit() {
  for (const l of listeners) l();
}

function subscribe(cb: () => void) {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

/** A guard returns true when leaving the current page needs confirmation. */
type Guard = () => boolean;
const guards = new Set<Guard>();

export function addNavigationGuard(guard: Guard): () => void {
  guards.add(guard);
  return () => guards.delete(guard);
}

function blocked(): boolean {
  for (const g of guards) if (g()) return true;
  return false;
}

interface PendingNavigation {
  pending: { to: string; replace: boolean; then?: () => void } | null;
}

/** A navigation waiting for the user to confirm leaving unsaved work. */
export const useNavigationPrompt = create<PendingNavigation>(() => ({ pending: null }));

function go(to: string, replace: boolean) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.scrollTo(0, 0);
  emit();
}

/** Go to `to`; `then` runs once the page has actually changed (after any confirmation). */
export function navigate(
  to: string,
  opts: { replace?: boolean; force?: boolean; then?: () => void } = {},
): void {
  if (to === location.pathname + location.search) {
    opts.then?.();
    return;
  }
  if (!opts.force && blocked()) {
    useNavigationPrompt.setState({ pending: { to, replace: !!opts.replace, then: opts.then } });
    return;
  }
  go(to, !!opts.replace);
  opts.then?.();
}

export function confirmPendingNavigation(): void {
  const p = useNavigationPrompt.getState().pending;
  useNavigationPrompt.setState({ pending: null });
  if (p) {
    go(p.to, p.replace);
    p.then?.();
  }
}

export function cancelPendingNavigation(): void {
  useNavigationPrompt.setState({ pending: null });
}

let currentPath = typeof location !== "undefined" ? location.pathname + location.search : "/";

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    const target = location.pathname + location.search;
    if (blocked()) {
      // Undo the browser's move, then ask.
      history.pushState(null, "", currentPath);
      useNavigationPrompt.setState({ pending: { to: target, replace: false } });
      return;
    }
    emit();
  });
  listeners.add(() => {
    currentPath = location.pathname + location.search;
  });
}

export function usePathname(): string {
  return useSyncExternalStore(
    subscribe,
    () => location.pathname,
    () => "/",
  );
}

export function useRoute(): Route {
  return matchRoute(usePathname());
}

/** The query string of the current URL ("" or "?a=b"), re-rendering on navigation. */
export function useSearch(): string {
  return useSyncExternalStore(
    subscribe,
    () => location.search,
    () => "",
  );
}
