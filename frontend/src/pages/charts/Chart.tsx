import { lazy, Suspense } from "react";
import type { EChartsOption } from "./options";

const EChart = lazy(() => import("./EChart"));

/** A chart with its height reserved while the chart library loads: no layout jump. */
export function Chart({ option, height = 220, label }: { option: EChartsOption; height?: number; label: string }) {
  return (
    <Suspense fallback={<div className="chart chart-loading" style={{ height }} aria-busy="true" />}>
      <EChart option={option} height={height} label={label} />
    </Suspense>
  );
}
