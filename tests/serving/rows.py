"""Reading the row problems of a refused prediction back from its error's fields."""
from __future__ import annotations


def row_problems(fields: dict[str, list[str]]) -> list[tuple[int, str | None, str]]:
    """(row, column, message) from fields named rows.<row>.<column> (or rows.<row>)."""
    found = []
    for key, messages in fields.items():
        _, row, *column = key.split(".", 2)
        found += [(int(row), column[0] if column else None, m) for m in messages]
    return found
