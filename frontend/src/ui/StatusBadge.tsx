import {
  Ban,
  CheckCircle2,
  CircleDashed,
  Clock,
  Hand,
  Loader2,
  SkipForward,
  XCircle,
  type LucideIcon,
} from "lucide-react";
import type { NodeStatus, RunStatus } from "../api/types";

type Status = RunStatus | NodeStatus;

const META: Record<Status, { label: string; icon: LucideIcon }> = {
  pending: { label: "Pending", icon: CircleDashed },
  queued: { label: "Queued", icon: Clock },
  running: { label: "Running", icon: Loader2 },
  succeeded: { label: "Succeeded", icon: CheckCircle2 },
  failed: { label: "Failed", icon: XCircle },
  skipped: { label: "Skipped", icon: SkipForward },
  cancelled: { label: "Cancelled", icon: Ban },
  waiting: { label: "Awaiting approval", icon: Hand },
};

export function statusLabel(status: Status): string {
  return META[status]?.label ?? status;
}

export function StatusBadge({
  status,
  label,
  compact,
  title,
}: {
  status: Status;
  label?: string;
  compact?: boolean;
  title?: string;
}) {
  const meta = META[status] ?? { label: String(status), icon: CircleDashed };
  const Icon = meta.icon;
  return (
    <span
      className={`badge status-${META[status] ? status : "pending"}${compact ? " badge-compact" : ""}`}
      title={title ?? meta.label}
      data-status={status}
    >
      <Icon size={12} className={status === "running" ? "spin" : undefined} aria-hidden="true" />
      {!compact && <span>{label ?? meta.label}</span>}
    </span>
  );
}
