// Cron helpers of the schedules panel: presets, a plain-words reading of common expressions,
// and dates shown in the schedule's own time zone. Pure.

export const CRON_PRESETS: { label: string; cron: string }[] = [
  { label: "Every 15 minutes", cron: "*/15 * * * *" },
  { label: "Hourly", cron: "0 * * * *" },
  { label: "Daily at 06:00", cron: "0 6 * * *" },
  { label: "Weekdays at 09:00", cron: "0 9 * * 1-5" },
  { label: "Mondays at 07:00", cron: "0 7 * * 1" },
  { label: "1st of the month", cron: "0 6 1 * *" },
];

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const isNum = (s: string) => /^\d+$/.test(s);
const pad = (s: string) => s.padStart(2, "0");

/** A reading of common five-field expressions; null when it is not one we can say simply. */
export function describeCron(expr: string): string | null {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const [min, hour, dom, mon, dow] = parts;
  const every = /^\*\/(\d+)$/;
  if (mon !== "*") return null;
  if (every.test(min) && hour === "*" && dom === "*" && dow === "*") {
    const n = Number(every.exec(min)![1]);
    return n === 1 ? "Every minute" : `Every ${n} minutes`;
  }
  if (min === "*" && hour === "*" && dom === "*" && dow === "*") return "Every minute";
  if (!isNum(min)) return null;
  if (hour === "*" && dom === "*" && dow === "*") return `Every hour at :${pad(min)}`;
  if (every.test(hour) && dom === "*" && dow === "*") {
    return `Every ${every.exec(hour)![1]} hours at :${pad(min)}`;
  }
  if (!isNum(hour)) return null;
  const at = `${pad(hour)}:${pad(min)}`;
  if (dom === "*" && dow === "*") return `Every day at ${at}`;
  if (dom === "*" && (dow === "1-5" || dow === "MON-FRI")) return `Weekdays at ${at}`;
  if (dom === "*" && (dow === "0,6" || dow === "6,0")) return `Weekends at ${at}`;
  if (dom === "*" && /^[0-7]$/.test(dow)) return `Every ${DAYS[Number(dow) % 7]} at ${at}`;
  if (isNum(dom) && dow === "*") return `Monthly on day ${Number(dom)} at ${at}`;
  return null;
}

/** "Sat, Nov 28, 06:00" in `tz` (falls back to the browser's zone for an unknown one). */
export function formatInZone(iso: string, tz: string): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  const opts: Intl.DateTimeFormatOptions = {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  };
  try {
    return d.toLocaleString("en-GB", { ...opts, timeZone: tz });
  } catch {
    return d.toLocaleString("en-GB", opts);
  }
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function timeZones(): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const first = ["UTC", browserTimeZone()];
  return [...new Set([...first, ...zones])];
}
