from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Membership
from .selectors import workspace_list


class WorkspaceListApi(APIView):
    def get(self, request: Request) -> Response:
        roles = dict(Membership.objects.filter(user=request.user).values_list(
            "workspace_id", "role"))
        return Response([
            {"id": str(w.pk), "name": w.name, "role": roles[w.pk],
             "personal": w.personal_for_id == request.user.pk}
            for w in workspace_list(user=request.user)
        ])
