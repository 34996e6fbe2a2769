// The audit log, newest first, a page at a time, optionally of one action (owners only).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ChevronLeft, ChevronRight } from "lucide-react";
import { useState } from "react";
import { errorMessage } from "../../api/http";
import { formatDateTime, timeAgo } from "../../lib/format";
import { Card, Hint, PageError } from "../common";
import { AUDIT_PAGE_SIZE, auditQuery } from "./api";

// The actions the server records (services call audit_record with these names).
const ACTIONS = [
  "member.invite",
  "member.invite_revoke",
  "member.join",
  "member.role",
  "member.remove",
  "member.transfer_ownership",
  "connection.create",
  "connection.update",
  "connection.delete",
  "connection.test",
  "pipeline.delete",
  "template.save",
  "template.delete",
  "model.import",
  "model.promote",
  "model.demote",
];

function describe(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}

export function AuditTab({ workspaceId, isOwner }: { workspaceId: string; isOwner: boolean }) {
  const [page, setPage] = useState(1);
  const [action, setAction] = useState("");
  const q = useQuery({ ...auditQuery(workspaceId, page, action), enabled: isOwner, placeholderData: keepPreviousData });
  if (!isOwner) {
    return (
      <Hint title="The audit log is for owners">
        It records who changed members, connections, models and pipelines, and is visible to the workspace&apos;s owners.
      </Hint>
    );
  }
  const entries = q.data ?? [];
  return (
    <>
      {q.error && <PageError message={`Could not load the audit log: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}
      <Card
        title="Audit log"
        subtitle="Sensitive changes in this workspace, newest first."
        action={
          <select
            aria-label="Action"
            value={action}
            onChange={(e) => {
              setAction(e.target.value);
              setPage(1);
            }}
          >
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        }
        flush
      >
        {q.data && entries.length === 0 ? (
          <p className="muted settings-empty">{page > 1 ? "No older entries." : "Nothing recorded yet."}</p>
        ) : (
          <table className="grid-table settings-table" aria-label="Audit log">
            <thead>
              <tr>
                <th style={{ width: 130 }}>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={`${e.at}-${i}`}>
                  <td className="muted" title={formatDateTime(e.at)}>
                    {timeAgo(e.at)}
                  </td>
                  <td>{e.actor ?? <span className="muted">deleted user</span>}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="settings-target">{e.target}</td>
                  <td className="muted small settings-detail">{describe(e.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="table-footer settings-pager">
          <span className="muted small">Page {page}</span>
          <button className="btn btn-sm" disabled={page === 1} onClick={() => setPage((p) => p - 1)}>
            <ChevronLeft size={13} /> Newer
          </button>
          <button className="btn btn-sm" disabled={entries.length < AUDIT_PAGE_SIZE} onClick={() => setPage((p) => p + 1)}>
            Older <ChevronRight size={13} />
          </button>
        </div>
      </Card>
    </>
  );
}
