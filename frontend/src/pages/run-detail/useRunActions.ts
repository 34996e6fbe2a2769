// What the run page can do to its run: re-run, cancel, approve or reject a waiting action.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, errorMessage } from "../../api/client";
import { startRunMutation } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import type { Run } from "../../api/types";
import { navigate } from "../../lib/router";
import { toast } from "../../ui/toast";

export function useRunActions(run: Run | null, setRun: (run: Run) => void) {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const start = useMutation(startRunMutation(qc));

  const guarded = async (work: () => Promise<void>, after?: () => void) => {
    setBusy(true);
    try {
      await work();
    } finally {
      setBusy(false);
      after?.();
    }
  };

  const changed = (next: Run) => {
    setRun(next);
    void qc.invalidateQueries({ queryKey: queryKeys.runs.all });
  };

  const rerun = (force: boolean) =>
    run &&
    guarded(async () => {
      try {
        const next = await start.mutateAsync({ pipeline: run.pipeline, force });
        toast("Started a new run.", "success");
        navigate(`/runs/${next.id}`);
      } catch (err) {
        toast(`Could not start a run: ${errorMessage(err)}`, "error");
      }
    });

  const cancel = (after: () => void) =>
    run &&
    guarded(async () => {
      try {
        changed(await api.cancelRun(run.id));
        toast("Run cancelled.", "success");
      } catch (err) {
        toast(`Could not cancel: ${errorMessage(err)}`, "error");
      }
    }, after);

  const decide = (node: string, approve: boolean) =>
    run &&
    guarded(async () => {
      try {
        changed(await (approve ? api.approveNode(run.id, node) : api.rejectNode(run.id, node)));
        toast(approve ? "Approved: the action is sending." : "Rejected: nothing was sent.", "success");
      } catch (err) {
        toast(`Could not ${approve ? "approve" : "reject"}: ${errorMessage(err)}`, "error");
      }
    });

  return { busy, rerun, cancel, decide };
}
