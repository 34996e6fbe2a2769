import { AlertCircle, CheckCircle2, Info, X } from "lucide-react";
import { create } from "zustand";

export type ToastKind = "info" | "success" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  key?: string;
}

interface ToastState {
  toasts: Toast[];
}

const useToasts = create<ToastState>(() => ({ toasts: [] }));
let nextId = 1;

/** Show a message; a toast with the same `key` (or text) replaces the earlier one. */
export function toast(message: string, kind: ToastKind = "info", ms = 4000, key?: string): void {
  const id = nextId++;
  useToasts.setState((s) => ({
    toasts: [
      ...s.toasts.filter((t) => t.message !== message && (!key || t.key !== key)),
      { id, kind, message, key },
    ].slice(-4),
  }));
  window.setTimeout(() => dismiss(id), ms);
}

function dismiss(id: number) {
  useToasts.setState((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
}

const ICONS = { info: Info, success: CheckCircle2, error: AlertCircle } as const;

export function Toaster() {
  const toasts = useToasts((s) => s.toasts);
  return (
    <div className="toaster" aria-live="polite">
      {toasts.map((t) => {
        const Icon = ICONS[t.kind];
        return (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === "error" ? "alert" : "status"}>
            <Icon size={16} className="toast-icon" />
            <span className="toast-message">{t.message}</span>
            <button className="icon-btn toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              <X size={14} />
            </button>
          </div>
        );
      })}
    </div>
  );
}
