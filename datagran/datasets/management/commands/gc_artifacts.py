from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from datagran.datasets.gc import artifacts_gc


class Command(BaseCommand):
    help = ("Evict artifacts, least recently used first, until the store fits "
            "DATAGRAN_ARTIFACT_MAX_BYTES (or --max-bytes); --unreferenced deletes every "
            "artifact that no registered model, dataset or kept run needs.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-bytes", type=int, default=None)
        parser.add_argument("--unreferenced", action="store_true")

    def handle(self, *args: Any, max_bytes: int | None, unreferenced: bool,
               **options: Any) -> None:
        result = artifacts_gc(max_bytes=max_bytes, unreferenced=unreferenced)
        self.stdout.write(f"{result['files']} artifacts ({result['bytes']:,} bytes), "
                          f"{result['protected']} protected; deleted {result['deleted']} "
                          f"({result['freed']:,} bytes).")
