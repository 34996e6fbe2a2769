import { ChevronDown, LogOut, Settings, Workflow } from "lucide-react";
import { useRef } from "react";
import { navigate, sectionOf, useRoute } from "../lib/router";
import { useSession } from "../lib/session";
import "./topbar.css";

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

const NAV = [
  { section: "overview", label: "Overview", to: "/" },
  { section: "pipelines", label: "Pipelines", to: "/pipelines" },
  { section: "runs", label: "Runs", to: "/runs" },
  { section: "models", label: "Models", to: "/models" },
  { section: "datasets", label: "Datasets", to: "/datasets" },
  { section: "connections", label: "Connections", to: "/connections" },
] as const;

// A plain left click navigates in the app; a modified one opens a tab as a link does.
function onNavClick(e: React.MouseEvent, to: string) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}

export function TopBar() {
  const username = useSession((s) => s.username);
  const workspaces = useSession((s) => s.workspaces);
  const workspaceId = useSession((s) => s.workspaceId);
  const route = useRoute();
  const formRef = useRef<HTMLFormElement>(null);

  const section = sectionOf(route);
  const current = workspaces.find((w) => String(w.id) === workspaceId);

  const onWorkspace = (id: string) => {
    // Workspace-wide pages follow the switch; a pipeline, run or model belongs to the old one.
    const wide = [
      "overview",
      "pipelines",
      "runs",
      "models",
      "connections",
      "datasets",
      "settings",
    ].includes(route.name);
    const set = () => useSession.getState().setWorkspace(id);
    if (wide && !location.search) set();
    else navigate(wide ? location.pathname : "/", { then: set });
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
      <nav className="topnav" aria-label="Main">
        {NAV.map((item) => (
          <a
            key={item.section}
            href={item.to}
            className={section === item.section ? "active" : ""}
            aria-current={section === item.section ? "page" : undefined}
            onClick={(e) => onNavClick(e, item.to)}
          >
            {item.label}
          </a>
        ))}
      </nav>
      <div className="topbar-spacer" />
      {workspaces.length > 0 && (
        <label className="workspace-switcher" title={current ? `Workspace: ${current.name} (you are ${current.role})` : "Workspace"}>
          <span className="sr-only">Workspace</span>
          <select
            aria-label="Workspace"
            value={workspaceId ?? ""}
            onChange={(e) => onWorkspace(e.target.value)}
          >
            {workspaces.map((w) => (
              <option key={w.id} value={String(w.id)}>
                {w.name}
              </option>
            ))}
          </select>
          <ChevronDown size={14} className="select-caret" aria-hidden="true" />
          {current?.role && <span className="workspace-role">{current.role}</span>}
        </label>
      )}
      <a
        href="/settings"
        className={`topbar-icon${section === "settings" ? " active" : ""}`}
        aria-label="Settings"
        title="Settings: members, invitations, audit log, API tokens"
        aria-current={section === "settings" ? "page" : undefined}
        onClick={(e) => onNavClick(e, "/settings")}
      >
        <Settings size={16} />
      </a>
      <div className="user" title={`Signed in as ${username}`}>
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
          aria-label="Sign out"
          onClick={() => {
            const input = formRef.current?.elements.namedItem("csrfmiddlewaretoken");
            if (input instanceof HTMLInputElement) input.value = readCsrf();
          }}
        >
          <LogOut size={14} /> <span className="signout-label">Sign out</span>
        </button>
      </form>
    </header>
  );
}
