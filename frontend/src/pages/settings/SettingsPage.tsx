// Workspace settings: members and ownership, invitations, the audit log, and the caller's own
// API tokens. Role-aware: what only an owner may do is shown disabled with the reason.
import { KeyRound, ScrollText, UserPlus, Users } from "lucide-react";
import type { ReactNode } from "react";
import { navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import { useDocumentTitle } from "../hooks";
import { AcceptInvitation } from "./AcceptInvitation";
import { AuditTab } from "./AuditTab";
import { InvitationsTab } from "./InvitationsTab";
import { MembersTab } from "./MembersTab";
import { TokensTab } from "./TokensTab";
import "./settings.css";

const TABS: { id: string; label: string; icon: ReactNode }[] = [
  { id: "members", label: "Members", icon: <Users size={14} /> },
  { id: "invitations", label: "Invitations", icon: <UserPlus size={14} /> },
  { id: "audit", label: "Audit log", icon: <ScrollText size={14} /> },
  { id: "tokens", label: "API tokens", icon: <KeyRound size={14} /> },
];


export function SettingsPage({ tab }: { tab: string }) {
  const current = TABS.some((t) => t.id === tab) ? tab : "members";
  const label = TABS.find((t) => t.id === current)?.label ?? "";
  useDocumentTitle(`Settings · ${label}`);
  const workspaceId = useSession((s) => s.workspaceId);
  const workspace = useSession((s) => s.workspaces.find((w) => String(w.id) === s.workspaceId));
  const isOwner = workspace?.role === "owner";
  // The invitation e-mail's link carries its token in the fragment (never sent to a server).
  const acceptToken = new URLSearchParams(location.hash.slice(1)).get("accept");

  return (
    <div className="page settings-page">
      <div className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="muted">
            {workspace ? (
              <>
                Workspace <strong className="settings-ws-name">{workspace.name}</strong> · you are {workspace.role}
              </>
            ) : (
              "Loading…"
            )}
          </p>
        </div>
      </div>
      {acceptToken && <AcceptInvitation token={acceptToken} />}
      <nav className="settings-tabs" role="tablist" aria-label="Settings">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={t.id === current}
            className={t.id === current ? "active" : ""}
            onClick={() => navigate(`/settings/${t.id}`)}
          >
            {t.icon} {t.label}
          </button>
        ))}
      </nav>
      {current === "tokens" ? (
        <TokensTab />
      ) : !workspaceId || !workspace ? null : current === "members" ? (
        <MembersTab workspaceId={workspaceId} isOwner={isOwner} />
      ) : current === "invitations" ? (
        <InvitationsTab workspaceId={workspaceId} isOwner={isOwner} />
      ) : (
        <AuditTab workspaceId={workspaceId} isOwner={isOwner} />
      )}
    </div>
  );
}
