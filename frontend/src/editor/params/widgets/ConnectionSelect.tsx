import { Plus } from "lucide-react";
import { useState } from "react";
import { createPortal } from "react-dom";
import { useSession } from "../../../lib/session";
import { ConnectionDialog } from "../../../pages/connections/ConnectionForm";
import { ResourceSelect } from "../parts/ResourceSelect";
import { useConnectionOptions } from "../resources";
import type { Widget, WidgetProps } from "../types";

/** connection: a connection of the kinds the field accepts, or a new one made on the spot
 * (the connections screen's form in a dialog; the new connection is selected once saved). */
function ConnectionSelect({ id, field, value, onChange, invalid }: WidgetProps) {
  const resources = useConnectionOptions(field.connectionKinds);
  const [creating, setCreating] = useState(false);
  // Only owners may add connections (the server refuses the others).
  const isOwner = useSession((s) => s.workspaces.find((w) => String(w.id) === s.workspaceId)?.role === "owner");
  return (
    <>
      <ResourceSelect
        id={id}
        value={value}
        onChange={onChange}
        invalid={invalid}
        resources={resources}
        kinds={field.connectionKinds}
        emptyHint={`No ${(field.connectionKinds ?? []).join(" / ")} connection in this workspace yet.`}
      />
      {isOwner && (
        <button type="button" className="btn btn-sm btn-ghost new-connection" onClick={() => setCreating(true)}>
          <Plus size={13} /> New connection…
        </button>
      )}
      {creating &&
        // Over the whole page, not inside the side panel (which clips and scrolls).
        createPortal(
          <ConnectionDialog
            kinds={field.connectionKinds}
            onClose={() => setCreating(false)}
            onSaved={(c) => {
              setCreating(false);
              onChange(String(c.id));
            }}
          />,
          document.body,
        )}
    </>
  );
}

export const connectionWidget: Widget = { Control: ConnectionSelect };
