import { MutationObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { importModelMutation, uploadDatasetMutation } from "./queries";
import { makeQueryClient, queryKeys } from "./queryClient";

afterEach(() => vi.unstubAllGlobals());

function answer(body: unknown) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 201 })));
}

describe("mutations invalidate what they change", () => {
  it("marks every model list and model stale when a model is imported", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(queryKeys.models.list("w1"), []);
    qc.setQueryData(queryKeys.models.one("m1"), { id: "m1" });
    qc.setQueryData(queryKeys.datasets.list("w1"), []);
    answer({ model: "m2", version: 1 });

    await new MutationObserver(qc, importModelMutation(qc)).mutate(new FormData());

    expect(qc.getQueryState(queryKeys.models.list("w1"))?.isInvalidated).toBe(true);
    expect(qc.getQueryState(queryKeys.models.one("m1"))?.isInvalidated).toBe(true);
    expect(qc.getQueryState(queryKeys.datasets.list("w1"))?.isInvalidated).toBe(false);
  });

  it("marks the dataset lists stale when a dataset is uploaded", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(queryKeys.datasets.list("w1"), []);
    answer({ id: "d1", name: "x.csv", columns: null, row_count: null });

    await new MutationObserver(qc, uploadDatasetMutation(qc)).mutate(new File(["a\n1\n"], "x.csv"));

    expect(qc.getQueryState(queryKeys.datasets.list("w1"))?.isInvalidated).toBe(true);
  });
});
