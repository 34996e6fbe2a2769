from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ServingConfig(AppConfig):
    name = "datagran.serving"

    def ready(self) -> None:
        # Serving remembers these for a second (services._recently); a change made in this
        # process is served at once.
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from datagran.pipelines.models import Pipeline
        from datagran.registry.models import ModelAlias, ModelVersion
        from datagran.workspaces.models import ApiToken, Membership

        from .models import Deployment
        from .services import forget_recent

        for model in (Pipeline, Deployment, ModelAlias, ModelVersion, Membership, Token, ApiToken,
                      get_user_model()):
            post_save.connect(forget_recent, sender=model, dispatch_uid=f"serving-{model}")
            post_delete.connect(forget_recent, sender=model, dispatch_uid=f"serving-d-{model}")
