import { describe, expect, it } from "vitest";
import type { NodeRun } from "../api/types";
import { pushdownBadge, pushdownNote } from "./pushdown";

const base = { node_id: "f", pushed_into: "", pushdown: null } as unknown as NodeRun;
const labels = { agg: "Revenue by region" };

describe("pushdown on the run page", () => {
  it("says where a pushed node ran, naming the frontier by its label", () => {
    const pushed = { ...base, pushed_into: "agg", pushdown: { database: "PostgreSQL", nodes: [], ran: [] } };
    expect(pushdownNote(pushed, labels)).toBe("Pushed down into PostgreSQL, in Revenue by region");
    expect(pushdownBadge(pushed)).toBe("pushed down");
  });

  it("counts the nodes a frontier ran in the database, not the sources it read there", () => {
    const frontier = {
      ...base,
      node_id: "agg",
      pushdown: { database: "MySQL/MariaDB", nodes: ["s", "t", "j", "agg"], ran: ["j", "agg"] },
    };
    expect(pushdownNote(frontier, labels)).toBe("Ran 2 nodes in MySQL/MariaDB");
    expect(pushdownBadge(frontier)).toBe("2 in MySQL/MariaDB");
  });

  it("says nothing of a node that ran as usual", () => {
    expect(pushdownNote(base, labels)).toBeNull();
    expect(pushdownBadge(base)).toBeNull();
  });
});
