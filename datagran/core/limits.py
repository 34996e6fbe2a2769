"""Text columns hold no more than their max_length, whatever writes them: SQLite would store a
longer value without a word and PostgreSQL would fail the statement (a 500). Checked once,
before any of our models is saved, rather than in each view and serializer."""
from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models
from django.db.models.signals import pre_save

from .exceptions import FieldError

ERR_TOO_LONG = "{field}: at most {limit:,} characters; this one has {count:,}."


@cache
def _limited(model: type[models.Model]) -> tuple[tuple[str, str, int], ...]:
    """(name, attribute, max_length) of the model's text columns; none for other apps'."""
    if not model.__module__.startswith("datagran."):
        return ()
    return tuple((f.name, f.attname, f.max_length) for f in model._meta.concrete_fields
                 if isinstance(f, models.CharField) and f.max_length)


def text_lengths_check(sender: type[models.Model], instance: models.Model,
                       update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    too_long = {}
    for name, attname, limit in _limited(sender):  # type: ignore[arg-type]  # a class hashes
        value = getattr(instance, attname)
        if (isinstance(value, str) and len(value) > limit
                and (update_fields is None or name in update_fields)):
            too_long[name] = ERR_TOO_LONG.format(field=name, limit=limit, count=len(value))
    if too_long:
        raise FieldError(next(iter(too_long.values())),
                             {name: [message] for name, message in too_long.items()})


def install_text_limits() -> None:
    pre_save.connect(text_lengths_check, dispatch_uid="datagran.core.limits")
