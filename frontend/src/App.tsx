import { useEffect } from "react";
import { api, errorMessage } from "./api/client";
import { EditorPage } from "./editor/EditorPage";
import {
  cancelPendingNavigation,
  confirmPendingNavigation,
  navigate,
  useNavigationPrompt,
  useRoute,
} from "./lib/router";
import { useSession } from "./lib/session";
import { PipelinesPage } from "./pages/PipelinesPage";
import { TopBar } from "./pages/TopBar";
import { ConfirmDialog } from "./ui/Modal";
import { toast, Toaster } from "./ui/toast";

export function App() {
  const route = useRoute();
  const loaded = useSession((s) => s.loaded);
  const workspaceId = useSession((s) => s.workspaceId);
  const pending = useNavigationPrompt((s) => s.pending);

  useEffect(() => {
    api
      .workspaces()
      .then((list) => useSession.getState().setWorkspaces(list))
      .catch((err) => {
        toast(`Could not load workspaces: ${errorMessage(err)}`, "error");
        useSession.getState().setWorkspaces([]);
      });
  }, []);

  useEffect(() => {
    document.title =
      route.name === "pipelines" ? "Pipelines · Datagran" : route.name === "editor" ? "Datagran" : "Not found · Datagran";
  }, [route.name]);

  return (
    <div className="app">
      <TopBar />
      <main className="app-main">
        {!loaded ? (
          <div className="page-loading" aria-busy="true" />
        ) : route.name === "pipelines" ? (
          <PipelinesPage key={workspaceId ?? "none"} />
        ) : route.name === "editor" ? (
          <EditorPage key={route.id} pipelineId={route.id} />
        ) : (
          <div className="empty-state">
            <h2>Page not found</h2>
            <p>There is nothing at {route.path}.</p>
            <button className="btn btn-primary" onClick={() => navigate("/")}>
              Go to pipelines
            </button>
          </div>
        )}
      </main>
      <Toaster />
      {pending && (
        <ConfirmDialog
          title="Leave without saving?"
          message="This pipeline has unsaved changes. They are kept as a draft in this browser, but they are not saved to the server."
          confirmLabel="Leave"
          danger
          onConfirm={confirmPendingNavigation}
          onCancel={cancelPendingNavigation}
        />
      )}
    </div>
  );
}
