from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from datagran.pipelines.demo import DEMO_PASSWORD, demo_setup


class Command(BaseCommand):
    help = "Create the demo user, workspace and example pipelines (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        user, workspace, pipelines = demo_setup()
        self.stdout.write(f"Demo workspace '{workspace.name}' with {len(pipelines)} pipelines.")
        self.stdout.write(f"Log in as  user: {user.username}  password: {DEMO_PASSWORD}")
