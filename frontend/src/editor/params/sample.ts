// A source's sample as the preview table shows it.
import type { OperatorSample, Preview } from "../../api/types";

export function sampleAsPreview(sample: OperatorSample): Preview {
  return { columns: sample.columns, rows: sample.rows, stats: [], total_rows: sample.rows.length };
}
