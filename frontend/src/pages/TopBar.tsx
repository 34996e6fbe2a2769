import { ChevronDown, LogOut, Workflow } from "lucide-react";
import { useRef } from "react";
import { navigate, useRoute } from "../lib/router";
import { useSession } from "../lib/session";

function readCsrf(): string {
  const m = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (m) return decodeURIComponent(m.slice("csrftoken=".length));
  const el = document.getElementById("datagran-boot");
  try {
    return (JSON.parse(el?.textContent ?? "{}") as { csrfToken?: string }).csrfToken ?? "";
  } catch {
    return "";
  }
}

export function TopBar() {
  const username = useSession((s) => s.username);
  const workspaces = useSession((s) => s.workspaces);
  const workspaceId = useSession((s) => s.workspaceId);
  const route = useRoute();
  const formRef = useRef<HTMLFormElement>(null);

  const onWorkspace = (id: string) => {
    if (route.name === "pipelines") useSession.getState().setWorkspace(id);
    else navigate("/", { then: () => useSession.getState().setWorkspace(id) });
  };

  return (
    <header className="topbar">
      <a
        className="brand"
        href="/"
        onClick={(e) => {
          e.preventDefault();
          navigate("/");
        }}
      >
        <span className="brand-mark">
          <Workflow size={16} />
        </span>
        Datagran
      </a>
      <nav className="topnav">
        <a
          href="/"
          className={route.name === "pipelines" || route.name === "editor" ? "active" : ""}
          onClick={(e) => {
            e.preventDefault();
            navigate("/");
          }}
        >
          Pipelines
        </a>
      </nav>
      <div className="topbar-spacer" />
      {workspaces.length > 0 && (
        <label className="workspace-switcher" title="Workspace">
          <span className="sr-only">Workspace</span>
          <select
            aria-label="Workspace"
            value={workspaceId ?? ""}
            onChange={(e) => onWorkspace(e.target.value)}
          >
            {workspaces.map((w) => (
              <option key={w.id} value={String(w.id)}>
                {w.name}
                {w.role ? ` · ${w.role}` : ""}
              </option>
            ))}
          </select>
          <ChevronDown size={14} className="select-caret" aria-hidden="true" />
        </label>
      )}
      <div className="user">
        <span className="avatar" aria-hidden="true">
          {(username || "?").charAt(0).toUpperCase()}
        </span>
        <span className="username">{username}</span>
      </div>
      <form method="post" action="/accounts/logout/" ref={formRef}>
        <input type="hidden" name="csrfmiddlewaretoken" value="" />
        <button
          type="submit"
          className="btn btn-ghost btn-sm"
          title="Sign out"
          onClick={() => {
            const input = formRef.current?.elements.namedItem("csrfmiddlewaretoken");
            if (input instanceof HTMLInputElement) input.value = readCsrf();
          }}
        >
          <LogOut size={14} /> Sign out
        </button>
      </form>
    </header>
  );
}
