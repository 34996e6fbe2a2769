import { describe, expect, it } from "vitest";
import type { Dataset } from "../../api/types";
import { formatBytes, groupDatasets, uploadOutcome } from "./datasets";

const v = (name: string, version: number, at: string, used: string[] = []): Dataset =>
  ({
    id: `${name}-${version}`,
    name,
    version,
    latest: false,
    created_at: at,
    used_by: used.map((p) => ({ id: p, name: `P ${p}` })),
  }) as unknown as Dataset;

describe("groupDatasets", () => {
  it("groups versions by name, newest version first, newest dataset first", () => {
    const groups = groupDatasets([
      v("a.csv", 1, "2026-01-01T00:00:00Z", ["p1"]),
      v("b.csv", 1, "2026-01-02T00:00:00Z"),
      v("a.csv", 2, "2026-01-03T00:00:00Z", ["p1", "p2"]),
    ]);
    expect(groups.map((g) => g.name)).toEqual(["a.csv", "b.csv"]);
    expect(groups[0].versions.map((d) => d.version)).toEqual([2, 1]);
    expect(groups[0].latest.version).toBe(2);
    expect(groups[0].usedBy.map((p) => p.id).sort()).toEqual(["p1", "p2"]);
  });
});

describe("formatBytes", () => {
  it("uses the largest unit under 1024", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(150 * 1024 * 1024)).toBe("150 MB");
  });
});

describe("uploadOutcome", () => {
  it("says unchanged, new dataset or new version", () => {
    const d = v("a.csv", 2, "2026-01-01T00:00:00Z");
    expect(uploadOutcome({ ...d, unchanged: true })).toMatch(/^Unchanged/);
    expect(uploadOutcome({ ...d, unchanged: false })).toBe("Version 2 of a.csv.");
    expect(uploadOutcome({ ...d, version: 1, unchanged: false })).toBe("New dataset a.csv.");
  });
});
