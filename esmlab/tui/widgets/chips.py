"""Record chips coloured by partition key / message group, shared by the
Ordering and DLQ panels."""

from __future__ import annotations

from rich.text import Text

from esmlab.readmodels import key_colour_index

KEY_COLOURS = ("red", "green", "yellow", "blue", "magenta", "cyan", "bright_red",
               "bright_green", "bright_yellow", "bright_blue", "bright_magenta", "bright_cyan")


def key_style(key: str | None) -> str:
    return f"black on {KEY_COLOURS[key_colour_index(key, len(KEY_COLOURS))]}"


def chip(label: str, key: str | None, *, dim: bool = False, batch: bool = False) -> Text:
    style = key_style(key)
    if dim:
        style += " dim"
    if batch:
        style += " bold underline"
    return Text(f" {label} ", style=style)
