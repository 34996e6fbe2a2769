// A tiny client-side router: pathname → route, pushState navigation, and navigation guards.
import { useSyncExternalStore } from "react";
import { create } from "zustand";

export type Route =
  | { name: "pipelines" }
  | { name: "editor"; id: string }
  | { name: "notfound"; path: string };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/pipelines") return { name: "pipelines" };
  const m = /^\/pipelines\/([^/]+)$/.exec(path);
  if (m) return { name: "editor", id: decodeURIComponent(m[1]) };
  return { name: "notfound", path };
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
