import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Check, Hand, X } from "lucide-react";
import { errorMessage } from "../../api/client";
import { toast } from "../../ui/toast";
import { decideMutation } from "../queries";

/** An action node waiting for approval: approve it or reject it. */
export function ApprovalBanner({ runId, nodeId }: { runId: string; nodeId: string }) {
  const decision = useMutation(decideMutation(useQueryClient()));
  const decide = async (approve: boolean) => {
    try {
      await decision.mutateAsync({ runId, nodeId, approve });
      toast(approve ? "Approved: the action runs now." : "Rejected: nothing was sent.", approve ? "success" : "info");
    } catch (err) {
      toast(`Could not ${approve ? "approve" : "reject"}: ${errorMessage(err)}`, "error");
    }
  };
  const deciding = decision.isPending;
  return (
    <div className="banner banner-warn approval" role="status" data-testid="approval-banner">
      <Hand size={16} />
      <span>
        <strong>Waiting for your approval.</strong> Right below: what it will send. Approve to send
        it, or reject to end the run with nothing sent.
      </span>
      <button className="btn btn-sm btn-primary" disabled={deciding} onClick={() => void decide(true)}>
        <Check size={14} /> Approve
      </button>
      <button className="btn btn-sm" disabled={deciding} onClick={() => void decide(false)}>
        <X size={14} /> Reject
      </button>
    </div>
  );
}
