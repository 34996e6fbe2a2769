import { MutationObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { modelsQuery, pipelineQuery, startRunMutation, updatePipelineMutation } from "../api/queries";
import { makeQueryClient, queryKeys } from "../api/queryClient";
import {
  cancelRunMutation,
  decideMutation,
  invalidateAfterRun,
  previewQuery,
  versionDiffQuery,
  versionsQuery,
} from "./queries";

afterEach(() => vi.unstubAllGlobals());

function answer(body: unknown) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 200 })));
}

const stale = (qc: ReturnType<typeof makeQueryClient>, key: readonly unknown[]) =>
  qc.getQueryState(key)?.isInvalidated;

describe("the editor's writes invalidate what they change", () => {
  it("a save refreshes the pipeline, the lists and the version history, not the previews", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(pipelineQuery("p1").queryKey, { id: "p1" } as never);
    qc.setQueryData(queryKeys.pipelines.list("w1"), []);
    qc.setQueryData(versionsQuery("p1").queryKey, []);
    qc.setQueryData(versionDiffQuery("p1", "a", "b").queryKey, {} as never);
    qc.setQueryData(previewQuery("r1", "n1", "out").queryKey, {} as never);
    answer({ id: "p1", graph: { nodes: [], edges: [] } });

    await new MutationObserver(qc, updatePipelineMutation(qc)).mutate({ id: "p1", graph: { nodes: [], edges: [] } });

    expect(stale(qc, pipelineQuery("p1").queryKey)).toBe(true);
    expect(stale(qc, queryKeys.pipelines.list("w1"))).toBe(true);
    expect(stale(qc, versionsQuery("p1").queryKey)).toBe(true);
    expect(stale(qc, previewQuery("r1", "n1", "out").queryKey)).toBe(false);
  });

  it("starting or cancelling a run refreshes the runs but keeps the previews", async () => {
    for (const run of [
      (qc: ReturnType<typeof makeQueryClient>) =>
        new MutationObserver(qc, startRunMutation(qc)).mutate({ pipeline: "p1" }),
      (qc: ReturnType<typeof makeQueryClient>) => new MutationObserver(qc, cancelRunMutation(qc)).mutate("r1"),
    ]) {
      const qc = makeQueryClient();
      qc.setQueryData(queryKeys.runs.one("r1"), { id: "r1" } as never);
      qc.setQueryData(previewQuery("r1", "n1", "out").queryKey, {} as never);
      answer({ id: "r1", status: "queued" });

      await run(qc);

      expect(stale(qc, queryKeys.runs.one("r1"))).toBe(true);
      expect(stale(qc, previewQuery("r1", "n1", "out").queryKey)).toBe(false);
    }
  });

  it("an approval refreshes its run only", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(queryKeys.runs.one("r1"), { id: "r1" } as never);
    qc.setQueryData(queryKeys.runs.one("r2"), { id: "r2" } as never);
    answer({ id: "r1", status: "running" });

    await new MutationObserver(qc, decideMutation(qc)).mutate({ runId: "r1", nodeId: "send", approve: true });

    expect(stale(qc, queryKeys.runs.one("r1"))).toBe(true);
    expect(stale(qc, queryKeys.runs.one("r2"))).toBe(false);
  });

  it("the model picker reads the list a model import invalidates", () => {
    // useModelOptions reads modelsQuery(workspace): the key importModelMutation marks stale.
    expect(modelsQuery("w1").queryKey.slice(0, queryKeys.models.all.length)).toEqual([...queryKeys.models.all]);
  });
});

describe("a run the editor follows ends", () => {
  it("refreshes the models it registered, the run lists and the pipelines' last run", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(modelsQuery("w1").queryKey, []);
    qc.setQueryData(queryKeys.runs.list("w1", ""), {} as never);
    qc.setQueryData(queryKeys.pipelines.list("w1"), []);
    qc.setQueryData(queryKeys.datasets.list("w1"), []);
    qc.setQueryData(previewQuery("r1", "n1", "out").queryKey, {} as never);

    await invalidateAfterRun(qc);

    expect(stale(qc, modelsQuery("w1").queryKey)).toBe(true);
    expect(stale(qc, queryKeys.runs.list("w1", ""))).toBe(true);
    expect(stale(qc, queryKeys.pipelines.list("w1"))).toBe(true);
    expect(stale(qc, queryKeys.datasets.list("w1"))).toBe(false);
    expect(stale(qc, previewQuery("r1", "n1", "out").queryKey)).toBe(false);
  });
});
