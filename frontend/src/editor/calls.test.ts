import { describe, expect, it } from "vitest";
import type { CallablePipeline, CallInterface, NodeRun } from "../api/types";
import { callNode, callParams, callPorts, callProgress, callShape, innerRuns, versionLabel } from "./calls";

const run = (id: string, status: NodeRun["status"]): NodeRun =>
  ({ node_id: id, operator: "x", status }) as NodeRun;

const TOP: CallablePipeline = {
  id: "p1",
  name: "Top spenders",
  description: "",
  version: "a".repeat(64),
  number: 3,
  inputs: [{ name: "customers", type: "table", node: "in" }],
  outputs: [{ name: "top", type: "table", node: "out" }],
  params: [{ name: "how_many", node: "top", param: "limit", default: 10 }],
};

describe("calling nodes", () => {
  it("take their ports from validation, else from the palette's entry", () => {
    const node = { params: { pipeline: "p1", version: TOP.version } };
    expect(callPorts(callShape(node, undefined, [TOP]))).toEqual({
      inputs: [{ name: "customers", type: "table", label: "customers", optional: false }],
      outputs: [{ name: "top", type: "table", label: "top", optional: false }],
    });
    const older = { ...TOP, pipeline: "p1", outputs: [] } as unknown as CallInterface;
    expect(callPorts(callShape(node, older, [TOP])).outputs).toEqual([]);
    expect(callPorts(callShape({ params: { pipeline: "gone" } }, undefined, [TOP]))).toEqual({
      inputs: [],
      outputs: [],
    });
  });

  it("pin the current version when added from the palette", () => {
    expect(callNode(TOP)).toEqual({
      params: { pipeline: "p1", version: TOP.version, params: {} },
      label: "Top spenders",
    });
    expect(callParams({ pipeline: "p1" })).toEqual({ pipeline: "p1", version: "latest", params: {} });
    expect(versionLabel(TOP, false)).toBe("Top spenders v3");
    expect(versionLabel(TOP, true)).toBe("Top spenders · always latest (v3)");
  });

  it("show the status of the nodes they expanded into", () => {
    const runs = Object.fromEntries(
      [run("n7.a", "succeeded"), run("n7.b.c", "running"), run("n70", "failed"), run("n8", "queued")].map(
        (r) => [r.node_id, r],
      ),
    );
    expect(innerRuns(runs, "n7").map((r) => r.node_id)).toEqual(["n7.a", "n7.b.c"]);
    expect(callProgress(innerRuns(runs, "n7"))).toEqual({ status: "running", done: 1, total: 2 });
    expect(callProgress([run("a", "succeeded"), run("b", "queued")]).status).toBe("running");
    expect(callProgress([run("a", "queued"), run("b", "pending")]).status).toBe("queued");
    expect(callProgress([run("a", "succeeded"), run("b", "failed")]).status).toBe("failed");
    expect(callProgress([run("a", "succeeded"), run("b", "succeeded")])).toEqual({
      status: "succeeded",
      done: 2,
      total: 2,
    });
    expect(callProgress([]).status).toBeUndefined();
  });
});
