// ECharts options and pure helpers of the model pages' ML views: ROC and precision-recall
// curves, feature importance bars, metrics of versions side by side, the confusion grid.
import type { EChartsOption } from "../charts/options";
import { COLORS } from "../charts/options";
import type { ModelVersion } from "../../api/types";

export type CurvePoints = [number, number][];
export interface Curve {
  points: CurvePoints;
  area: number | null;
}
export interface ModelEvaluation {
  confusion?: { labels: unknown[]; counts: number[][] };
  importances?: { feature: string; importance: number }[];
  curves?: { roc?: Curve; pr?: Curve };
}

/** The evaluation a version carries, whatever the API sent (older versions have none). */
export function evaluationOf(v: { evaluation?: unknown } | null | undefined): ModelEvaluation {
  const e = v?.evaluation;
  return e && typeof e === "object" && !Array.isArray(e) ? (e as ModelEvaluation) : {};
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const axis = {
  axisLine: { lineStyle: { color: "#d5d9e0" } },
  axisTick: { show: false },
  axisLabel: { color: COLORS.muted, fontSize: 11, fontFamily: FONT },
  nameTextStyle: { color: COLORS.muted, fontSize: 11, fontFamily: FONT },
  splitLine: { lineStyle: { color: COLORS.grid } },
};
const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(3) : "–");

function unitAxis(name: string) {
  return { type: "value" as const, min: 0, max: 1, name, nameLocation: "middle" as const, nameGap: 26, ...axis };
}

/** ROC: true against false positive rate, with the chance diagonal. */
export function rocOption(curve: Curve): EChartsOption {
  return {
    animation: false,
    grid: { left: 48, right: 16, top: 16, bottom: 44 },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "line" }, valueFormatter: fmt },
    xAxis: unitAxis("False positive rate"),
    yAxis: { ...unitAxis("True positive rate"), nameGap: 34 },
    series: [
      {
        name: "ROC",
        type: "line",
        showSymbol: false,
        lineStyle: { width: 2, color: COLORS.primary },
        itemStyle: { color: COLORS.primary },
        areaStyle: { color: "rgba(79, 70, 229, 0.08)" },
        data: curve.points,
      },
      {
        name: "Chance",
        type: "line",
        showSymbol: false,
        silent: true,
        lineStyle: { width: 1, type: "dashed", color: "#94a3b8" },
        itemStyle: { color: "#94a3b8" },
        tooltip: { show: false },
        data: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
  };
}

/** Precision against recall. */
export function prOption(curve: Curve): EChartsOption {
  return {
    animation: false,
    grid: { left: 48, right: 16, top: 16, bottom: 44 },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "line" }, valueFormatter: fmt },
    xAxis: unitAxis("Recall"),
    yAxis: { ...unitAxis("Precision"), nameGap: 34 },
    series: [
      {
        name: "Precision",
        type: "line",
        showSymbol: false,
        step: "end",
        lineStyle: { width: 2, color: COLORS.p95 },
        itemStyle: { color: COLORS.p95 },
        data: curve.points,
      },
    ],
  };
}

/** Horizontal bars, most important on top. */
export function importanceOption(bars: { feature: string; importance: number }[]): EChartsOption {
  const shown = bars.slice(0, 15).reverse();
  return {
    animation: false,
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" }, valueFormatter: fmt },
    xAxis: { type: "value", ...axis, axisLabel: { show: false } },
    yAxis: { type: "category", data: shown.map((b) => b.feature), ...axis, splitLine: { show: false } },
    series: [
      {
        name: "Importance",
        type: "bar",
        barMaxWidth: 16,
        itemStyle: { color: COLORS.primary, borderRadius: [0, 3, 3, 0] },
        label: { show: true, position: "right", color: COLORS.muted, fontSize: 11, formatter: (p) => fmt(p.value) },
        data: shown.map((b) => b.importance),
      },
    ],
  };
}

/** The pixel height that shows every bar of `n` features (at most 15) readably. */
export function importanceHeight(n: number): number {
  return Math.max(120, Math.min(n, 15) * 26 + 16);
}

const VERSION_COLORS = ["#4f46e5", "#0ea5e9", "#f59e0b", "#22c55e", "#ef4444", "#a855f7", "#64748b", "#14b8a6"];

/** Metrics of versions side by side: one group per metric, one bar per version (oldest first). */
export function versionMetricsOption(versions: Pick<ModelVersion, "version" | "metrics">[], metrics: string[]): EChartsOption {
  const ordered = [...versions].sort((a, b) => a.version - b.version);
  return {
    animation: false,
    grid: { left: 44, right: 12, top: 32, bottom: 24 },
    legend: { top: 0, right: 0, itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 11, color: COLORS.muted } },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" }, valueFormatter: fmt },
    xAxis: { type: "category", data: metrics, ...axis, splitLine: { show: false } },
    yAxis: { type: "value", ...axis },
    series: ordered.map((v, i) => ({
      name: `v${v.version}`,
      type: "bar" as const,
      barMaxWidth: 18,
      itemStyle: { color: VERSION_COLORS[i % VERSION_COLORS.length], borderRadius: [2, 2, 0, 0] },
      data: metrics.map((m) => (typeof v.metrics[m] === "number" ? v.metrics[m] : null)),
    })),
  };
}

/** A confusion cell's background: the share of its actual class, white to indigo. */
export function cellShade(count: number, rowTotal: number): string {
  const share = rowTotal > 0 ? count / rowTotal : 0;
  return `rgba(79, 70, 229, ${(0.06 + share * 0.84).toFixed(3)})`;
}

/** Text on a shaded cell stays readable: white on the darker half. */
export function cellInk(count: number, rowTotal: number): string {
  return rowTotal > 0 && count / rowTotal > 0.5 ? "#fff" : "var(--text)";
}
