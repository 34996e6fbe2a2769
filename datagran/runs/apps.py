from django.apps import AppConfig
from django.db.models.signals import post_delete


class RunsConfig(AppConfig):
    name = "datagran.runs"

    def ready(self) -> None:
        # A member removed from a workspace (or a user deleted) loses its open sockets there.
        from datagran.workspaces.models import Membership

        from .publish import membership_removed

        post_delete.connect(membership_removed, sender=Membership,
                            dispatch_uid="runs-membership-removed")
