// Small building blocks the workspace pages share.
import { Check, ChevronRight, Copy } from "lucide-react";
import { useEffect, useRef, useState, type AnchorHTMLAttributes, type ReactNode } from "react";
import { navigate } from "../lib/router";
import { toast } from "../ui/toast";
import "./pages.css";

/** An in-app link: a real href (middle-click, copy link) that navigates without a reload. */
export function Link({
  to,
  children,
  ...rest
}: { to: string; children?: ReactNode } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  return (
    <a
      href={to}
      {...rest}
      onClick={(e) => {
        rest.onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        e.stopPropagation();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Breadcrumbs({ items }: { items: { label: ReactNode; to?: string }[] }) {
  return (
    <nav className="crumbs" aria-label="Breadcrumbs">
      {items.map((item, i) => (
        <span key={i} className="crumb">
          {i > 0 && <ChevronRight size={13} aria-hidden="true" className="crumb-sep" />}
          {item.to ? <Link to={item.to}>{item.label}</Link> : <span>{item.label}</span>}
        </span>
      ))}
    </nav>
  );
}

export function Card({
  title,
  action,
  children,
  className = "",
  testId,
  flush,
  subtitle,
}: {
  title?: ReactNode;
  action?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
  /** No padding: tables and lists run to the card's edges. */
  flush?: boolean;
  subtitle?: ReactNode;
}) {
  return (
    <section className={`card ${className}`} data-testid={testId}>
      {(title || action) && (
        <div className="card-header">
          <div className="card-titles">
            {title && <h2 className="card-title">{title}</h2>}
            {subtitle && <p className="card-subtitle muted">{subtitle}</p>}
          </div>
          {action && <div className="card-action">{action}</div>}
        </div>
      )}
      <div className={flush ? "card-body card-body-flush" : "card-body"}>{children}</div>
    </section>
  );
}

export function Stat({
  label,
  value,
  sub,
  tone,
  testId,
  to,
}: {
  label: string;
  value: ReactNode;
  sub?: ReactNode;
  tone?: "danger" | "success" | "info" | "warn";
  testId?: string;
  to?: string;
}) {
  const body = (
    <>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {sub !== undefined && <span className="stat-sub">{sub}</span>}
    </>
  );
  const cls = `stat${tone ? ` stat-${tone}` : ""}`;
  return to ? (
    <Link to={to} className={`${cls} stat-link`} data-testid={testId}>
      {body}
    </Link>
  ) : (
    <div className={cls} data-testid={testId}>
      {body}
    </div>
  );
}

/** A quiet empty state inside a card: what is missing and what to do about it. */
export function Hint({ icon, title, children }: { icon?: ReactNode; title: string; children?: ReactNode }) {
  return (
    <div className="hint">
      {icon && <span className="hint-icon">{icon}</span>}
      <div>
        <p className="hint-title">{title}</p>
        {children && <p className="hint-text muted">{children}</p>}
      </div>
    </div>
  );
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Not a secure context, or no permission: fall back to a hidden textarea.
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

export function CopyButton({ text, label = "Copy", className = "btn btn-sm" }: { text: string; label?: string; className?: string }) {
  const [done, setDone] = useState(false);
  const timer = useRef<number>(0);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      className={className}
      onClick={async () => {
        if (await copyText(text)) {
          setDone(true);
          window.clearTimeout(timer.current);
          timer.current = window.setTimeout(() => setDone(false), 1600);
        } else {
          toast("Could not copy: select the text and copy it by hand.", "error");
        }
      }}
    >
      {done ? <Check size={14} /> : <Copy size={14} />}
      {done ? "Copied" : label}
    </button>
  );
}

export type LiveState = "connecting" | "live" | "offline";

export function LiveIndicator({ state }: { state: LiveState }) {
  const text = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span className={`live live-${state}`} data-testid="live-indicator" data-state={state} title={
      state === "live" ? "Updates arrive as they happen" : "Updates paused; reconnecting"
    }>
      <span className="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function shortHash(hash: string | null | undefined, n = 8): string {
  return hash ? hash.slice(0, n) : "";
}

export function formatPercent(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  return `${(v * 100).toFixed(digits)}%`;
}

export function formatMetric(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toFixed(4);
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function triggerLabel(trigger: string): string {
  return (
    { manual: "Manual", api: "API", schedule: "Schedule", webhook: "Webhook" } as Record<string, string>
  )[trigger] ?? trigger;
}

/** The metrics worth a column: the usual ones of the task first. */
export function headlineMetric(metrics: Record<string, unknown> | null | undefined): [string, unknown] | null {
  if (!metrics) return null;
  for (const k of ["accuracy", "f1", "r2", "rmse", "mae", "silhouette"]) if (k in metrics) return [k, metrics[k]];
  const first = Object.entries(metrics)[0];
  return first ?? null;
}

export function PageError({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="banner banner-error" role="alert">
      <span>{message}</span>
      {onRetry && (
        <button className="btn btn-sm" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function SkeletonBlock({ height = 120 }: { height?: number }) {
  return <div className="skeleton-block" style={{ height }} aria-busy="true" />;
}

/** "Nov 27, 13:13" (the year only when it is not this year). */
export function formatShortDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleString(undefined, {
    ...(sameYear ? {} : { year: "numeric" }),
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** "in 3 h": how long until a future instant. */
export function timeUntil(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (isNaN(ms)) return "";
  if (ms < 45_000) return "in a moment";
  const m = Math.round(ms / 60_000);
  if (m < 60) return `in ${m} min`;
  const h = Math.round(m / 60);
  if (h < 24) return `in ${h} h`;
  return `in ${Math.round(h / 24)} d`;
}
