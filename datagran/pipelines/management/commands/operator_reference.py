from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from operators.reference import render_reference

REFERENCE = Path(settings.BASE_DIR) / "docs" / "operators.md"


class Command(BaseCommand):
    help = "Write docs/operators.md from the operator registry (--check: fail if it is stale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        text = render_reference()
        if check:
            if not REFERENCE.exists() or REFERENCE.read_text() != text:
                raise CommandError("docs/operators.md is stale: run "
                                   "`manage.py operator_reference`.")
            self.stdout.write("docs/operators.md is current.")
            return
        REFERENCE.write_text(text)
        self.stdout.write(f"Wrote {REFERENCE}.")
