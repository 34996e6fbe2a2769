"""Reading settings from the environment. Every helper names the variable when its value is
bad, at settings import: a typo fails every process at start-up (daphne, the workers, the
scheduler, manage.py) instead of silently meaning the default, or a 500 on each request.

No Django import here beyond the exception: settings.py imports this module."""
from __future__ import annotations

import ipaddress
import os
import secrets
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
RATE_UNITS = {**dict.fromkeys(("s", "sec", "second", "seconds"), 1),
              **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
              **dict.fromkeys(("h", "hour", "hours"), 3600),
              **dict.fromkeys(("d", "day", "days"), 86400)}
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _parsed(name: str, default: str, parse: Callable[[str], T], expected: str) -> T:
    raw = env(name, default)
    try:
        return parse(raw.strip())
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not valid: expected {expected}"
                                   f"{f' ({exc})' if str(exc) else ''}.") from None


def _bool(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise ValueError("")


def env_bool(name: str, default: bool = False) -> bool:
    return _parsed(name, "1" if default else "0", _bool,
                   "one of " + ", ".join(TRUE) + " or " + ", ".join(filter(None, FALSE)))


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"at least {minimum}")
        return value
    return _parsed(name, str(default), parse, "a whole number")


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    def parse(text: str) -> float:
        value = float(text)
        if not value >= minimum or value == float("inf"):  # also refuses nan
            raise ValueError(f"a finite number of at least {minimum:g}")
        return value
    return _parsed(name, str(default), parse, "a number")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


@lru_cache(maxsize=16)
def parse_rate(rate: str) -> tuple[int, int] | None:
    """``"6000/min"`` → (6000, 60): requests and window in seconds; ``""`` → None (no limit).
    Cached: the throttle asks on every request."""
    if not rate:
        return None
    count, _, unit = rate.partition("/")
    if unit.strip().lower() not in RATE_UNITS:
        raise ValueError(f"no unit {unit!r}")
    if int(count) < 1:
        raise ValueError("the count must be at least 1")
    return int(count), RATE_UNITS[unit.strip().lower()]


def env_rate(name: str, default: str) -> str:
    rate = env(name, default).strip()
    _parsed(name, default, parse_rate, "a rate such as 6000/min (per s, min, hour or day)")
    return rate


def parse_trusted_proxies(text: str) -> int | Networks:
    """How many proxies stand in front (``"1"``) or their addresses (``"10.0.0.0/8, ::1"``)."""
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in text.split(",") if part.strip())


def env_trusted_proxies(name: str) -> int | Networks:
    return _parsed(name, "", parse_trusted_proxies,
                   "a number of proxies, or their addresses or networks, comma-separated")


def kept_secret_key(folder: Path) -> str:
    """A random key created once in ``folder/secret_key`` (mode 0600) and read back after:
    the embedded default's SECRET_KEY when the environment sets none. Two processes starting
    at once agree (the file is created exclusively; the loser reads the winner's)."""
    path = folder / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # the creator may not have written it yet
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise ImproperlyConfigured(f"{path} is empty: delete it or set SECRET_KEY.") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
