// The settings screen's calls and queries: members, invitations, ownership, the audit log and
// the caller's API tokens. Writes invalidate what they change (a role change of the caller's
// own also the workspace list, which the top bar's selector shows).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { http, unwrap } from "../../api/http";
import type { components } from "../../api/schema";

type S = components["schemas"];
export type Member = S["MemberOutput"];
export type PendingInvitation = S["PendingInvitationOutput"];
export type InvitationSent = S["InvitationOutput"];
export type AuditEntry = S["AuditEntryOutput"];
export type ApiToken = S["ApiTokenOutput"];
export type ApiTokenCreated = S["ApiTokenCreatedOutput"];
export type Role = Member["role"];

export const AUDIT_PAGE_SIZE = 50;
export const OWNER_ONLY = "Only the workspace's owners can do this.";

const ws = (workspace_id: string) => ({ params: { path: { workspace_id } } });

export const settingsKeys = {
  members: (ws: string) => ["settings", ws, "members"] as const,
  invitations: (ws: string) => ["settings", ws, "invitations"] as const,
  audit: (ws: string, page: number, action: string) => ["settings", ws, "audit", page, action] as const,
  auditAll: (ws: string) => ["settings", ws, "audit"] as const,
  tokens: ["api-tokens"] as const,
};

export const settingsApi = {
  members: (w: string) => unwrap(http.GET("/api/workspaces/{workspace_id}/members/", ws(w))) as Promise<Member[]>,
  invitations: (w: string) =>
    unwrap(http.GET("/api/workspaces/{workspace_id}/invitations/", ws(w))) as Promise<PendingInvitation[]>,
  invite: (w: string, email: string, role: string) =>
    unwrap(http.POST("/api/workspaces/{workspace_id}/invitations/", { ...ws(w), body: { email, role } })) as Promise<InvitationSent>,
  revokeInvitation: (w: string, id: number) =>
    unwrap(
      http.DELETE("/api/workspaces/{workspace_id}/invitations/{invitation_id}/", {
        params: { path: { workspace_id: w, invitation_id: id } },
      }),
    ),
  setRole: (w: string, userId: number, role: string) =>
    unwrap(
      http.PATCH("/api/workspaces/{workspace_id}/members/{user_id}/", {
        params: { path: { workspace_id: w, user_id: userId } },
        body: { role },
      }),
    ),
  remove: (w: string, userId: number) =>
    unwrap(
      http.DELETE("/api/workspaces/{workspace_id}/members/{user_id}/", {
        params: { path: { workspace_id: w, user_id: userId } },
      }),
    ),
  transfer: (w: string, userId: number) =>
    unwrap(http.POST("/api/workspaces/{workspace_id}/transfer-ownership/", { ...ws(w), body: { user_id: userId } })),
  audit: (w: string, page: number, action: string) =>
    unwrap(
      http.GET("/api/workspaces/{workspace_id}/audit/", {
        params: { path: { workspace_id: w }, query: { page, page_size: AUDIT_PAGE_SIZE, action: action || undefined } },
      }),
    ) as Promise<AuditEntry[]>,
  tokens: () => unwrap(http.GET("/api/tokens/")) as Promise<ApiToken[]>,
  createToken: (name: string) => unwrap(http.POST("/api/tokens/", { body: { name } })) as Promise<ApiTokenCreated>,
  revokeToken: (id: number) => unwrap(http.DELETE("/api/tokens/{token_id}/", { params: { path: { token_id: id } } })),
};

export const membersQuery = (w: string) =>
  queryOptions({ queryKey: settingsKeys.members(w), queryFn: () => settingsApi.members(w) });
export const invitationsQuery = (w: string) =>
  queryOptions({ queryKey: settingsKeys.invitations(w), queryFn: () => settingsApi.invitations(w) });
export const auditQuery = (w: string, page: number, action: string) =>
  queryOptions({ queryKey: settingsKeys.audit(w, page, action), queryFn: () => settingsApi.audit(w, page, action) });
export const tokensQuery = () => queryOptions({ queryKey: settingsKeys.tokens, queryFn: settingsApi.tokens });

/** A mutation of the workspace's members: refreshes members, invitations, the audit log and
 * the caller's workspace list (their own role may have changed). */
export function useWorkspaceMutation<V, R = unknown>(w: string, fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ["settings", w] });
      void qc.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
}

export function useTokenMutation<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.tokens }) });
}
