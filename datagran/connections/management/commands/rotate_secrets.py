from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from datagran.connections import crypto
from datagran.connections.models import Connection


class Command(BaseCommand):
    help = ("Re-encrypt every connection's secrets with the first key of DATAGRAN_SECRET_KEYS. "
            "Put the new key first, keep the old ones after it, run this, then drop the old.")

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for connection in Connection.objects.select_for_update():
                connection.secrets_encrypted = crypto.rotate(connection.secrets_encrypted)
                connection.save(update_fields=["secrets_encrypted"])
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} connections.")
