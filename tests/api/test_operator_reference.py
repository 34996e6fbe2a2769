"""docs/operators.md is generated from the registry and must be current."""
from __future__ import annotations

import io

from django.core.management import call_command


def test_the_operator_reference_is_current() -> None:
    out = io.StringIO()
    # Fails with "stale" when an operator changed without `manage.py operator_reference`.
    call_command("operator_reference", "--check", stdout=out)
    assert "current" in out.getvalue()
