"""What the panels are asked to show: the selection and the pager state,
built by the app from its one selection and handed to every panel's
`read(lab, view)`. Plain data, so a panel can be read and rendered in a
test without an app."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class View:
    selected: tuple = ()
    mapping: dict | None = None            # the resources() row of the selected mapping
    source: tuple[str, str] | None = None  # ("stream" | "queue", name)
    function: str | None = None
    resource: str | None = None            # the name the Why-log filter uses
    start_ms: int = 0
    queue_offset: int = 0
    lane_offset: int = 0
    lane_limit: int = 16
    log_filter: bool = False
    why_full: bool = False
    xray: str | None = None                # the id the X-ray panel tells the story of
    keys: dict = field(default_factory=dict)
