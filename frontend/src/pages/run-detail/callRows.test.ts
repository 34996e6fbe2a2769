import { describe, expect, it } from "vitest";
import type { NodeRun } from "../../api/types";
import { nodeRows } from "./callRows";

const run = (id: string, status: NodeRun["status"] = "succeeded"): NodeRun =>
  ({ node_id: id, operator: "x", status }) as NodeRun;

const CALLS = { n7: { name: "Top of the pro plan", number: 2 }, "n7.s": { name: "Top spenders", number: 1 } };
const NODES = [run("src"), run("n7.pro"), run("n7.s.top", "running"), run("ids", "pending")];

const shape = (rows: ReturnType<typeof nodeRows>) =>
  rows.map((r) => (r.kind === "call" ? `${"  ".repeat(r.depth)}[${r.name} ${r.progress.status}]` : `${"  ".repeat(r.depth)}${r.node.node_id}`));

describe("the run's node table", () => {
  it("nests the called nodes under their calls", () => {
    expect(shape(nodeRows(NODES, CALLS, new Set()))).toEqual([
      "src",
      "[Top of the pro plan running]",
      "  n7.pro",
      "  [Top spenders running]",
      "    n7.s.top",
      "ids",
    ]);
  });

  it("folds a call's rows into its own", () => {
    expect(shape(nodeRows(NODES, CALLS, new Set(["n7"])))).toEqual(["src", "[Top of the pro plan running]", "ids"]);
    expect(shape(nodeRows(NODES, CALLS, new Set(["n7.s"])))).toEqual([
      "src",
      "[Top of the pro plan running]",
      "  n7.pro",
      "  [Top spenders running]",
      "ids",
    ]);
  });

  it("lists a run without calls as it is", () => {
    expect(shape(nodeRows(NODES.slice(0, 1), undefined, new Set()))).toEqual(["src"]);
  });
});
