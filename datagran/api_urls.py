from django.urls import path, re_path

from datagran.catalogue.apis import OperatorListApi
from datagran.connections.apis import (
    ConnectionDetailApi,
    ConnectionKindListApi,
    ConnectionListApi,
    ConnectionTestApi,
    ConnectionTestFieldsApi,
)
from datagran.core.exceptions import api_not_found
from datagran.datasets.apis import DatasetListApi
from datagran.pipelines.apis import (
    PipelineDetailApi,
    PipelineListApi,
    PipelineValidateApi,
    PipelineVersionDiffApi,
    PipelineVersionListApi,
)
from datagran.registry.apis import (
    ModelAliasApi,
    ModelAliasDeleteApi,
    ModelCompareApi,
    ModelDetailApi,
    ModelImportApi,
    ModelListApi,
    ModelVersionApi,
    ModelVersionDownloadApi,
)
from datagran.runs.apis import (
    NodeApproveApi,
    NodeFileApi,
    NodeOutputApi,
    NodePreviewApi,
    NodeRejectApi,
    PipelinePlanApi,
    PipelineRunCreateApi,
    RunCancelApi,
    RunDetailApi,
    RunListApi,
    RunReplayApi,
    RunStatsApi,
)
from datagran.runs.triggers import PipelineWebhookApi, WebhookTriggerApi
from datagran.schedules.apis import PipelineScheduleListApi, ScheduleDetailApi, SchedulePreviewApi
from datagran.serving.apis import DeploymentApi, DeploymentStatsApi, PredictApi
from datagran.workspaces.apis import (
    AuditListApi,
    EmailVerificationApi,
    EmailVerifyApi,
    InvitationAcceptApi,
    InvitationApi,
    MemberDetailApi,
    MemberListApi,
    OwnershipTransferApi,
    WorkspaceListApi,
)

urlpatterns = [
    path("workspaces/", WorkspaceListApi.as_view()),
    path("workspaces/<str:workspace_id>/members/", MemberListApi.as_view()),
    path("workspaces/<str:workspace_id>/members/<int:user_id>/", MemberDetailApi.as_view()),
    path("workspaces/<str:workspace_id>/invitations/", InvitationApi.as_view()),
    path("workspaces/<str:workspace_id>/transfer-ownership/", OwnershipTransferApi.as_view()),
    path("workspaces/<str:workspace_id>/audit/", AuditListApi.as_view()),
    path("invitations/<str:token>/accept/", InvitationAcceptApi.as_view()),
    path("invitations/verify-email/", EmailVerificationApi.as_view()),
    path("invitations/<str:token>/verify-email/", EmailVerifyApi.as_view()),
    path("operators/", OperatorListApi.as_view()),
    path("datasets/", DatasetListApi.as_view()),
    path("connections/", ConnectionListApi.as_view()),
    path("connections/kinds/", ConnectionKindListApi.as_view()),
    path("connections/test/", ConnectionTestFieldsApi.as_view()),
    path("connections/<str:connection_id>/", ConnectionDetailApi.as_view()),
    path("connections/<str:connection_id>/test/", ConnectionTestApi.as_view()),
    path("pipelines/", PipelineListApi.as_view()),
    path("pipelines/<str:pipeline_id>/", PipelineDetailApi.as_view()),
    path("pipelines/<str:pipeline_id>/versions/", PipelineVersionListApi.as_view()),
    path("pipelines/<str:pipeline_id>/versions/diff/", PipelineVersionDiffApi.as_view()),
    path("pipelines/<str:pipeline_id>/validate/", PipelineValidateApi.as_view()),
    path("pipelines/<str:pipeline_id>/runs/", PipelineRunCreateApi.as_view()),
    path("pipelines/<str:pipeline_id>/plan/", PipelinePlanApi.as_view()),
    path("pipelines/<str:pipeline_id>/predict", PredictApi.as_view()),
    path("pipelines/<str:pipeline_id>/deployment/", DeploymentApi.as_view()),
    path("pipelines/<str:pipeline_id>/schedules/", PipelineScheduleListApi.as_view()),
    path("pipelines/<str:pipeline_id>/webhook/", PipelineWebhookApi.as_view()),
    path("schedules/preview/", SchedulePreviewApi.as_view()),
    path("schedules/<str:schedule_id>/", ScheduleDetailApi.as_view()),
    path("hooks/<str:pipeline_id>/<str:token>/", WebhookTriggerApi.as_view()),
    path("pipelines/<str:pipeline_id>/deployment/stats/", DeploymentStatsApi.as_view()),
    path("models/", ModelListApi.as_view()),
    path("models/import/", ModelImportApi.as_view()),
    path("models/<str:model_id>/", ModelDetailApi.as_view()),
    path("models/<str:model_id>/versions/<int:number>/", ModelVersionApi.as_view()),
    path("models/<str:model_id>/versions/<int:number>/download/",
         ModelVersionDownloadApi.as_view()),
    path("models/<str:model_id>/aliases/", ModelAliasApi.as_view()),
    path("models/<str:model_id>/aliases/<str:alias>/", ModelAliasDeleteApi.as_view()),
    path("models/<str:model_id>/compare/", ModelCompareApi.as_view()),
    path("runs/", RunListApi.as_view()),
    path("runs/stats/", RunStatsApi.as_view()),
    path("runs/<str:run_id>/", RunDetailApi.as_view()),
    path("runs/<str:run_id>/cancel/", RunCancelApi.as_view()),
    path("runs/<str:run_id>/replay/", RunReplayApi.as_view()),
    path("runs/<str:run_id>/nodes/<str:node_id>/preview/", NodePreviewApi.as_view()),
    path("runs/<str:run_id>/nodes/<str:node_id>/output/", NodeOutputApi.as_view()),
    path("runs/<str:run_id>/nodes/<str:node_id>/files/<str:name>", NodeFileApi.as_view()),
    path("runs/<str:run_id>/nodes/<str:node_id>/approve/", NodeApproveApi.as_view()),
    path("runs/<str:run_id>/nodes/<str:node_id>/reject/", NodeRejectApi.as_view()),
    # Last: any other path under /api/ is a 404 in the API's error shape.
    re_path(r"^(?P<unknown>.*)$", api_not_found),
]
