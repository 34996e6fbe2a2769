// The page an invitation e-mail links to (/settings/invitations#accept=<token>): accepting
// makes the signed-in user a member and switches to the workspace. Only the invited address
// may accept; the server's message says what to do otherwise.
import { useQueryClient } from "@tanstack/react-query";
import { Check, MailOpen } from "lucide-react";
import { useState } from "react";
import { errorMessage, http, unwrap } from "../../api/http";
import { navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import { Card } from "../common";

export function AcceptInvitation({ token }: { token: string }) {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [dismissed, setDismissed] = useState(false);

  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      const joined = await unwrap(http.POST("/api/invitations/{token}/accept/", { params: { path: { token } } }));
      await qc.invalidateQueries({ queryKey: ["workspaces"] });
      navigate("/settings/members", { then: () => useSession.getState().setWorkspace(String(joined.workspace)) });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  if (dismissed) return null;
  return (
    <Card title="You are invited to a workspace" className="settings-accept">
      <p className="settings-accept-text">
        <MailOpen size={16} /> Accept to join it with the role the invitation names. It works once, for the e-mail
        address it was sent to.
      </p>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="button-row">
        <button className="btn btn-primary" onClick={() => void accept()} disabled={busy}>
          <Check size={14} /> Accept invitation
        </button>
        <button
          className="btn"
          onClick={() => {
            history.replaceState(history.state, "", location.pathname); // the link's token out of the address bar
            setDismissed(true);
          }}
        >
          Not now
        </button>
      </div>
    </Card>
  );
}
