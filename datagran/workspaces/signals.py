"""Every user, however created (sign-up, admin, createsuperuser, the ORM), gets a personal
workspace. bulk_create skips signals; workspace_personal() covers that case lazily."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .services import workspace_personal


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def give_personal_workspace(sender: Any, instance: Any, created: bool, raw: bool = False,
                            **kwargs: Any) -> None:
    if created and not raw:
        workspace_personal(user=instance)
