"""How an error reads on screen: AWS's own message, then the lab's hint
beside it (never inside it)."""

from __future__ import annotations


def said(exc: BaseException) -> str:
    hint = getattr(exc, "hint", None)
    return f"{exc}\n(lab hint: {hint})" if hint else str(exc)
