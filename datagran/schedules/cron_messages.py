"""A cron expression's mistake in plain words: which field, what it allows, what was given
("cron: minute must be 0–59, got 75"), where cronsim says only "Bad minute"."""
from __future__ import annotations

import re

# cronsim's field names, each with the words and the range the message uses.
FIELDS = {
    "second": ("second", "0–59", range(0, 60)),
    "minute": ("minute", "0–59", range(0, 60)),
    "hour": ("hour", "0–23", range(0, 24)),
    "day-of-month": ("day of month", "1–31", range(1, 32)),
    "month": ("month", "1–12 or JAN–DEC", range(1, 13)),
    "day-of-week": ("day of week", "0–7 or SUN–SAT (0 and 7 are Sunday)", range(0, 8)),
}
ORDER_5 = ["minute", "hour", "day-of-month", "month", "day-of-week"]
ORDER_6 = ["second", *ORDER_5]
ERR_FIELD_COUNT = ("cron: give five fields (minute hour day-of-month month day-of-week), "
                   "got {count}.")


def cron_error_message(expr: str, cronsim_message: str) -> str:
    """The message for an expression cronsim refused with ``cronsim_message``."""
    parts = expr.split()
    if cronsim_message == "Wrong number of fields" or len(parts) not in (5, 6):
        return ERR_FIELD_COUNT.format(count=len(parts))
    name = cronsim_message.removeprefix("Bad ").strip()
    if name not in FIELDS:
        return f"cron: {cronsim_message}."
    order = ORDER_5 if len(parts) == 5 else ORDER_6
    text = parts[order.index(name)]
    words, allowed, valid = FIELDS[name]
    return f"cron: {words} {_why(text, allowed, valid)}"


def _why(text: str, allowed: str, valid: range) -> str:
    for number in re.findall(r"\d+", text.split("#")[0].split("/")[0]):
        if int(number) not in valid:
            return f"must be {allowed}, got {int(number)}."
    if re.search(r"/0+(\D|$)", text):
        return f"step cannot be 0 (in {text!r})."
    span = re.fullmatch(r"(\d+)-(\d+)(/\d+)?", text)
    if span and int(span[2]) < int(span[1]):
        return f"range {span[1]}-{span[2]} goes backwards; write the smaller number first."
    if re.fullmatch(r"[\d,\-/*]+", text):
        # Well formed and in range, yet refused: a day the chosen months never have (30 2).
        return f"{text} never occurs in the month chosen."
    return f"must be {allowed}, got {text!r}."
