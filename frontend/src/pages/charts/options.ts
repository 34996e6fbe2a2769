// ECharts options of the pages' charts, built from API data. Pure.
import type { ComposeOption } from "echarts/core";
import type { BarSeriesOption, LineSeriesOption } from "echarts/charts";
import type {
  GridComponentOption,
  LegendComponentOption,
  MarkLineComponentOption,
  TooltipComponentOption,
} from "echarts/components";
import type { DayStats } from "../../api/types";

export type EChartsOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
  | MarkLineComponentOption
>;

export const COLORS = {
  succeeded: "#22c55e",
  failed: "#ef4444",
  other: "#cbd5e1",
  primary: "#4f46e5",
  muted: "#6b7382",
  grid: "#eef0f3",
  p95: "#f59e0b",
};

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Every day of the last `days`, oldest first, as "YYYY-MM-DD" (UTC, as the API groups). */
export function dayRange(days: number, now = Date.now()): string[] {
  const out: string[] = [];
  const today = new Date(now);
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function shortDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function fill(perDay: DayStats[], days: number, now?: number): (DayStats | null)[] {
  const byDay = new Map(perDay.map((d) => [d.day, d]));
  return dayRange(days, now).map((d) => byDay.get(d) ?? null);
}

const axisCommon = {
  axisLine: { lineStyle: { color: "#d5d9e0" } },
  axisTick: { show: false },
  axisLabel: { color: COLORS.muted, fontSize: 11, fontFamily: FONT },
};

const tooltip = {
  trigger: "axis" as const,
  confine: true,
  textStyle: { fontSize: 12, fontFamily: FONT },
  axisPointer: { type: "shadow" as const },
};

/** Runs per day, succeeded and failed stacked, with the success rate as a line. */
export function runsPerDayOption(perDay: DayStats[], days: number, now?: number): EChartsOption {
  const filled = fill(perDay, days, now);
  const labels = dayRange(days, now).map(shortDay);
  return {
    animation: false,
    grid: { left: 36, right: 44, top: 28, bottom: 24 },
    legend: { top: 0, right: 0, itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 11, color: COLORS.muted } },
    tooltip,
    xAxis: { type: "category", data: labels, ...axisCommon },
    yAxis: [
      { type: "value", minInterval: 1, splitLine: { lineStyle: { color: COLORS.grid } }, ...axisCommon, axisLine: { show: false } },
      {
        type: "value",
        min: 0,
        max: 100,
        splitLine: { show: false },
        ...axisCommon,
        axisLine: { show: false },
        axisLabel: { ...axisCommon.axisLabel, formatter: "{value}%" },
      },
    ],
    series: [
      {
        name: "Succeeded",
        type: "bar",
        stack: "runs",
        barMaxWidth: 14,
        itemStyle: { color: COLORS.succeeded },
        data: filled.map((d) => d?.succeeded ?? 0),
      },
      {
        name: "Failed",
        type: "bar",
        stack: "runs",
        barMaxWidth: 14,
        itemStyle: { color: COLORS.failed, borderRadius: [2, 2, 0, 0] },
        data: filled.map((d) => d?.failed ?? 0),
      },
      {
        name: "Success rate",
        type: "line",
        yAxisIndex: 1,
        connectNulls: true,
        symbolSize: 5,
        lineStyle: { width: 2, color: COLORS.primary },
        itemStyle: { color: COLORS.primary },
        tooltip: { valueFormatter: (v) => (v === null || v === undefined ? "–" : `${Number(v).toFixed(0)}%`) },
        data: filled.map((d) => (d?.success_rate === null || d?.success_rate === undefined ? null : +(d.success_rate * 100).toFixed(1))),
      },
    ],
  };
}

/** The next round number at or above `v` (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of 10). */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * p >= v - 1e-12) ?? 10;
  return +(step * p).toPrecision(3);
}

/** Room right of the duration plot for the p50/p95 labels. */
export const DURATION_LABEL_MARGIN = 40;

/** Mean run duration per day, with the period's p50 and p95 as reference lines. */
export function durationOption(
  perDay: DayStats[],
  days: number,
  p: { p50: number | null; p95: number | null },
  now?: number,
): EChartsOption {
  const filled = fill(perDay, days, now);
  const labels = dayRange(days, now).map(shortDay);
  const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : +(ms / 1000).toFixed(2));
  // The labels sit in the right margin, past the plot (never over the line or its area); p95
  // nudged up and p50 down so the two stay apart when the percentiles are close.
  const marks = [
    p.p50 !== null ? { yAxis: secs(p.p50), name: "p50", label: { formatter: "p50", position: "end", offset: [0, 6], color: COLORS.muted, fontSize: 10 }, lineStyle: { color: "#94a3b8" } } : null,
    p.p95 !== null ? { yAxis: secs(p.p95), name: "p95", label: { formatter: "p95", position: "end", offset: [0, -6], color: COLORS.p95, fontSize: 10 }, lineStyle: { color: COLORS.p95 } } : null,
  ].filter((m) => m !== null);
  return {
    animation: false,
    grid: { left: 44, right: DURATION_LABEL_MARGIN, top: 28, bottom: 24 },
    tooltip: { ...tooltip, axisPointer: { type: "line" as const }, valueFormatter: (v) => (v === null || v === undefined ? "–" : `${v} s`) },
    xAxis: { type: "category", data: labels, boundaryGap: false, ...axisCommon },
    yAxis: {
      type: "value",
      splitLine: { lineStyle: { color: COLORS.grid } },
      ...axisCommon,
      axisLine: { show: false },
      axisLabel: { ...axisCommon.axisLabel, formatter: "{value} s" },
      // The axis reaches the p95 line too (a slow run lifts p95 above every day's mean).
      max: (v: { max: number }) => {
        const top = Math.max(v.max, secs(p.p95) ?? 0, secs(p.p50) ?? 0);
        return niceCeil(top * 1.05);
      },
    },
    series: [
      {
        name: "Mean duration",
        type: "line",
        connectNulls: true,
        symbolSize: 5,
        lineStyle: { width: 2, color: COLORS.primary },
        itemStyle: { color: COLORS.primary },
        areaStyle: { color: "rgba(79, 70, 229, 0.08)" },
        data: filled.map((d) => secs(d?.mean_duration_ms)),
        markLine: { symbol: "none", silent: true, lineStyle: { type: "dashed", width: 1 }, data: marks as never },
      },
    ],
  };
}

/** Live quality per hour (or day) from the labels sent back, with the training value as a
 * dashed line: accuracy as a percentage, or the mean absolute error. */
export function feedbackOption(
  series: { at: string; labelled: number; accuracy?: number | null; mae?: number | null }[],
  metric: "accuracy" | "mae",
  training: number | null,
): EChartsOption {
  const value = (p: (typeof series)[number]) => {
    const v = metric === "accuracy" ? p.accuracy : p.mae;
    return v === null || v === undefined ? null : metric === "accuracy" ? +(v * 100).toFixed(1) : +v.toFixed(4);
  };
  const unit = metric === "accuracy" ? "%" : "";
  const train = training === null ? null : metric === "accuracy" ? +(training * 100).toFixed(1) : training;
  return {
    animation: false,
    grid: { left: 44, right: DURATION_LABEL_MARGIN, top: 28, bottom: 24 },
    tooltip: { ...tooltip, axisPointer: { type: "line" as const }, valueFormatter: (v) => (v === null || v === undefined ? "–" : `${v}${unit}`) },
    xAxis: { type: "category", data: series.map((p) => p.at.replace("T", " ")), boundaryGap: series.length === 1, ...axisCommon },
    yAxis: {
      type: "value",
      splitLine: { lineStyle: { color: COLORS.grid } },
      ...axisCommon,
      axisLine: { show: false },
      axisLabel: { ...axisCommon.axisLabel, formatter: `{value}${unit}` },
      ...(metric === "accuracy" ? { min: 0, max: 100 } : {}),
    },
    series: [
      {
        name: metric === "accuracy" ? "Live accuracy" : "Live MAE",
        type: "line",
        connectNulls: true,
        symbolSize: 6,
        lineStyle: { width: 2, color: COLORS.primary },
        itemStyle: { color: COLORS.primary },
        data: series.map(value),
        markLine:
          train === null
            ? undefined
            : {
                symbol: "none",
                silent: true,
                lineStyle: { type: "dashed", width: 1, color: COLORS.muted },
                data: [{ yAxis: train, name: "training", label: { formatter: "training", position: "end", color: COLORS.muted, fontSize: 10 } }] as never,
              },
      },
    ],
  };
}
