from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from datagran.core.exceptions import DatagranError
from datagran.workspaces.tokens import api_token_create, api_token_list


class Command(BaseCommand):
    help = ("Make a personal API token for USERNAME and print its key (shown this once): "
            "`Authorization: Token <key>`. The same as Settings → API tokens in the browser.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="create_api_token",
                            help="the token's name in the list (default: create_api_token)")
        parser.add_argument("--reset", action="store_true",
                            help="revoke the user's other active tokens of that name first")

    def handle(self, *args: Any, username: str, name: str, reset: bool, **options: Any) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if reset:
            for token in api_token_list(user=user).filter(name=name.strip(), revoked_at=None):
                token.revoked_at = timezone.now()
                token.save(update_fields=["revoked_at"])
        try:
            _, key = api_token_create(user=user, name=name)
        except DatagranError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(key)
