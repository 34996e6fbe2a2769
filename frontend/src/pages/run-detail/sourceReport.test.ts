import { describe, expect, it } from "vitest";
import type { SourceReport } from "../../api/types";
import { summarizeReport } from "./sourceReport";

const first: SourceReport = {
  records: 250,
  pages: 3,
  retries: 0,
  new: 250,
  updated: 0,
  cursor_field: "updatedAt",
  cursor_before: null,
  cursor_after: "2024-03-01T10:00:00+00:00",
  full_refresh: true,
  new_columns: [],
  missing_columns: [],
};

describe("a source's run report", () => {
  it("says a first load: records, pages, all new, read from the start", () => {
    const s = summarizeReport(first);
    expect(s.records).toBe("250 records");
    expect(s.pages).toBe("3 pages");
    expect(s.retries).toBe("no retries");
    expect(s.changes).toBe("250 new · 0 updated");
    expect(s.cursor).toEqual({
      field: "updatedAt",
      before: "the start",
      after: "2024-03-01T10:00:00+00:00",
      moved: true,
      fromStart: true,
    });
  });

  it("says an incremental run: one record updated, the cursor moved on from the last run's", () => {
    const s = summarizeReport({
      ...first,
      records: 1,
      pages: 1,
      retries: 2,
      new: 0,
      updated: 1,
      full_refresh: false,
      cursor_before: "2024-03-01T10:00:00+00:00",
      cursor_after: "2024-03-02T08:30:00+00:00",
    });
    expect(s.records).toBe("1 record");
    expect(s.pages).toBe("1 page");
    expect(s.retries).toBe("2 retries");
    expect(s.changes).toBe("0 new · 1 updated");
    expect(s.cursor?.before).toBe("2024-03-01T10:00:00+00:00");
    expect(s.cursor?.moved).toBe(true);
    expect(s.cursor?.fromStart).toBe(false);
  });

  it("says when nothing changed (the cursor stays) and when there is no cursor or page count", () => {
    const none = summarizeReport({ ...first, records: 0, new: 0, full_refresh: false, cursor_before: "5", cursor_after: "5" });
    expect(none.cursor).toMatchObject({ before: "5", after: "5", moved: false });
    const plain = summarizeReport({ ...first, cursor_field: null, pages: null });
    expect(plain.cursor).toBeNull();
    expect(plain.pages).toBeNull();
  });
});
