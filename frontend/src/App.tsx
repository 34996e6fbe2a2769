import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, errorMessage } from "./api/client";
import { queryKeys } from "./api/queryClient";
import { EditorPage } from "./editor/EditorPage";
import {
  cancelPendingNavigation,
  confirmPendingNavigation,
  navigate,
  useNavigationPrompt,
  useRoute,
  type Route,
} from "./lib/router";
import { useSession } from "./lib/session";
import { ConnectionsPage } from "./pages/connections/ConnectionsPage";
import { DatasetsPage } from "./pages/datasets/DatasetsPage";
import { DeployPage } from "./pages/deploy/DeployPage";
import { ModelPage } from "./pages/models/ModelPage";
import { ModelsPage } from "./pages/models/ModelsPage";
import { ModelVersionPage } from "./pages/models/ModelVersionPage";
import { OverviewPage } from "./pages/overview/OverviewPage";
import { PipelineDashboardPage } from "./pages/pipeline-dashboard/PipelineDashboardPage";
import { PipelinesPage } from "./pages/pipelines/PipelinesPage";
import { RunDetailPage } from "./pages/run-detail/RunDetailPage";
import { RunsPage } from "./pages/runs/RunsPage";
import { SettingsPage } from "./pages/settings/SettingsPage";
import { TopBar } from "./pages/TopBar";
import { ConfirmDialog } from "./ui/Modal";
import { toast, Toaster } from "./ui/toast";

function Page({ route, workspaceId }: { route: Route; workspaceId: string | null }) {
  // Workspace-wide pages start over when the workspace changes; the others belong to one.
  const ws = workspaceId ?? "none";
  switch (route.name) {
    case "overview":
      return <OverviewPage key={ws} />;
    case "pipelines":
      return <PipelinesPage key={ws} />;
    case "editor":
      return <EditorPage key={route.id} pipelineId={route.id} />;
    case "dashboard":
      return <PipelineDashboardPage key={route.id} pipelineId={route.id} />;
    case "deploy":
      return <DeployPage key={route.id} pipelineId={route.id} />;
    case "runs":
      return <RunsPage key={ws} />;
    case "run":
      return <RunDetailPage key={route.id} runId={route.id} />;
    case "models":
      return <ModelsPage key={ws} />;
    case "model":
      return <ModelPage key={route.id} modelId={route.id} />;
    case "modelVersion":
      return <ModelVersionPage key={`${route.id}/${route.version}`} modelId={route.id} version={route.version} />;
    case "connections":
      return <ConnectionsPage key={ws} />;
    case "datasets":
      return <DatasetsPage key={ws} />;
    case "settings":
      return <SettingsPage key={ws} tab={route.tab} />;
    default:
      return (
        <div className="empty-state">
          <h2>Page not found</h2>
          <p>There is nothing at {route.path}.</p>
          <button className="btn btn-primary" onClick={() => navigate("/")}>
            Go to the overview
          </button>
        </div>
      );
  }
}

export function App() {
  const route = useRoute();
  const loaded = useSession((s) => s.loaded);
  const workspaceId = useSession((s) => s.workspaceId);
  const pending = useNavigationPrompt((s) => s.pending);

  const workspaces = useQuery({
    queryKey: queryKeys.workspaces,
    queryFn: api.workspaces,
    retry: false,
    staleTime: Infinity,
  });
  useEffect(() => {
    if (workspaces.data) useSession.getState().setWorkspaces(workspaces.data);
  }, [workspaces.data]);
  useEffect(() => {
    if (!workspaces.error) return;
    toast(`Could not load workspaces: ${errorMessage(workspaces.error)}`, "error");
    useSession.getState().setWorkspaces([]);
  }, [workspaces.error]);

  useEffect(() => {
    // The other pages set their own titles.
    if (route.name === "pipelines") document.title = "Pipelines · Datagran";
    else if (route.name === "editor") document.title = "Datagran";
    else if (route.name === "notfound") document.title = "Not found · Datagran";
  }, [route.name]);

  return (
    <div className="app">
      <TopBar />
      <main className="app-main">
        {!loaded ? (
          <div className="page-loading" aria-busy="true" />
        ) : (
          <Page route={route} workspaceId={workspaceId} />
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
