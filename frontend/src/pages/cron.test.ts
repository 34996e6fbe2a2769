import { describe, expect, it } from "vitest";
import { describeCron, formatInZone } from "./cron";

describe("describeCron", () => {
  it("reads common expressions", () => {
    expect(describeCron("*/15 * * * *")).toBe("Every 15 minutes");
    expect(describeCron("0 * * * *")).toBe("Every hour at :00");
    expect(describeCron("30 */2 * * *")).toBe("Every 2 hours at :30");
    expect(describeCron("0 6 * * *")).toBe("Every day at 06:00");
    expect(describeCron("0 9 * * 1-5")).toBe("Weekdays at 09:00");
    expect(describeCron("15 7 * * 1")).toBe("Every Monday at 07:15");
    expect(describeCron("0 6 1 * *")).toBe("Monthly on day 1 at 06:00");
  });

  it("says nothing about the rest", () => {
    expect(describeCron("0 6 * 1 *")).toBeNull();
    expect(describeCron("0 6,18 * * *")).toBeNull();
    expect(describeCron("bogus")).toBeNull();
  });
});

describe("formatInZone", () => {
  it("shows the instant in the schedule's zone", () => {
    expect(formatInZone("2026-11-28T05:00:00+00:00", "Europe/Paris")).toContain("06:00");
    expect(formatInZone("2026-11-28T05:00:00+00:00", "UTC")).toContain("05:00");
    expect(formatInZone("2026-11-28T05:00:00+00:00", "Not/AZone")).not.toBe("");
  });
});
