"""Durations as people write them ("90s", "1.5s", "5m") <-> lab milliseconds.

The lab clock counts whole milliseconds, so a duration that is not a whole
number of milliseconds is refused rather than silently rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MS_PER_UNIT = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})\s*(ms|s|m|h|d)")
_PARTS = re.compile(rf"(?:{_NUMBER}\s*(?:ms|s|m|h|d)\s*)+")

HELP = "write a number with a unit, like 500ms, 90s, 1.5s, 5m, 2h, 1d or 1m30s " \
       "(a bare number means seconds)"


class DurationError(ValueError):
    """A value that is not a duration; the message says how to write one."""


def parse_duration(value: str | int | float) -> int:
    """"90s", "1.5s", "500ms", "5m", "2h", "1d", "1m30s" or seconds -> int ms."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DurationError(f"{value!r} is not a duration; {HELP}")
    if isinstance(value, str):
        return _parse_text(value)
    return _whole_ms(_decimal(value) * 1000, value)


def _parse_text(text: str) -> int:
    body = text.strip()
    if re.fullmatch(_NUMBER, body):
        return _whole_ms(Decimal(body) * 1000, text)
    if not body or not _PARTS.fullmatch(body):
        raise DurationError(f"'{text}' is not a duration; {HELP}")
    total = sum(Decimal(number) * MS_PER_UNIT[unit] for number, unit in _PART.findall(body))
    return _whole_ms(total, text)


def _decimal(value: int | float) -> Decimal:
    # str() first so 0.1 means one tenth, not the nearest binary float.
    try:
        number = Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - str() of a number always parses
        raise DurationError(f"{value!r} is not a duration; {HELP}") from None
    if not number.is_finite():
        raise DurationError(f"{value!r} is not a duration; {HELP}")
    return number


def _whole_ms(total: Decimal, original: object) -> int:
    if total < 0:
        raise DurationError(f"{original!r} is negative; a duration is 0 or more")
    if total != total.to_integral_value():
        raise DurationError(
            f"{original!r} is not a whole number of milliseconds; the lab clock counts "
            "whole milliseconds")
    return int(total)


def format_duration(ms: int) -> str:
    """Short human form that parse_duration reads back: 1500 -> "1.5s", 90000 -> "1m30s"."""
    if ms < 0:
        return "-" + format_duration(-ms)
    if ms < 1000:
        return f"{ms}ms"
    parts = []
    for unit in ("d", "h", "m"):
        count, ms = divmod(ms, MS_PER_UNIT[unit])
        if count:
            parts.append(f"{count}{unit}")
    if ms:
        seconds = Decimal(ms).scaleb(-3).normalize()
        parts.append(f"{seconds:f}s")
    return "".join(parts)
