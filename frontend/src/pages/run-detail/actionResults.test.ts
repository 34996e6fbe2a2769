import { describe, expect, it } from "vitest";
import { resultsPort, summarizeResults } from "./actionResults";

const columns = ["record_key", "status", "reason", "payload"].map((name) => ({ name, type: "str" }));

describe("summarizeResults", () => {
  it("counts records by outcome and lists the failures with reasons", () => {
    const s = summarizeResults({
      columns,
      rows: [
        ["a", "sent", "", ""],
        ["b", "failed", "Invalid email", ""],
        ["c", "skipped", "Already sent with the same content.", ""],
        ["d", "dry_run", "", "{}"],
        ["e", "failed", "HTTP 500", ""],
      ],
      total_rows: 7,
    });
    expect(s?.counts).toEqual({ sent: 1, failed: 2, skipped: 1, dry_run: 1 });
    expect(s?.failed).toEqual([
      { key: "b", reason: "Invalid email" },
      { key: "e", reason: "HTTP 500" },
    ]);
    expect(s?.read).toBe(5);
    expect(s?.total).toBe(7);
  });

  it("is null for a table that is not a results table", () => {
    expect(summarizeResults({ columns: [{ name: "x", type: "int" }], rows: [[1]], total_rows: 1 })).toBeNull();
  });
});

describe("resultsPort", () => {
  it("prefers results, then the approval preview", () => {
    expect(resultsPort({ results: { kind: "table" }, preview: { kind: "table" } })).toBe("results");
    expect(resultsPort({ preview: { kind: "table" } })).toBe("preview");
    expect(resultsPort({ table: { kind: "table" } })).toBeNull();
    expect(resultsPort(undefined)).toBeNull();
  });
});
