"""Notices (Textual's toasts): plain text, at most a few, placed where
they cover no form, button or narration."""

from __future__ import annotations

import math

from textual.notifications import Notify

from esmlab.tui.widgets.narration import NarrationPanel

TOASTS_SHOWN = 3   # older notifications give way, so the rack stays above the narration


class NoticeActions:
    """Mixed into EsmlabApp (before App, so its notify is the one used)."""

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """As App.notify, but plain text by default: a sentence naming `[0, 2]`
        or `['bob clicked']` is not markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_notify(self, event: Notify) -> None:
        """At most TOASTS_SHOWN at once, and only as many as fit their place:
        the oldest give way to this one."""
        self._fit_toasts(event.notification)

    def place_toasts(self) -> None:
        """While a scenario's narration shows under the panels, toasts move
        over the tree's column (the narration is never covered); otherwise
        they sit at the top right of the panels. Either way they end above
        the ticker."""
        from esmlab.tui.widgets.challenge import ChallengePanel
        narrating = bool(self.query_one(NarrationPanel).display)
        goal = self.query_one(ChallengePanel)
        if goal.display and self.screen_stack[0].has_class("-wide") and \
                not goal.has_class("-collapsed"):
            narrating = True      # the challenge's column is at the right: keep it uncovered
        self.screen_stack[0].set_class(narrating, "-narrating")
        self._fit_toasts()

    def _fit_toasts(self, newest=None) -> None:
        narrating = self.screen_stack[0].has_class("-narrating")
        width = self.size.width
        if narrating:        # as #left: 30% of the width, 26 to 40 columns
            toast_w, top = min(40, max(26, width * 30 // 100)), 1
        else:                # as Toast: at most 45% of the width; under the tab names
            toast_w, top = min(60, width * 45 // 100), 3
        room = self.query_one("#ticker").region.y - top
        text_w = max(8, toast_w - 3)     # its padding and its coloured left edge
        notes = [n for n in self._notifications if n is not newest]
        notes = ([newest] if newest is not None else []) + notes[::-1]   # newest first
        used = 0
        for i, n in enumerate(notes):
            lines = (1 if n.title else 0) + sum(
                max(1, math.ceil(len(line) / text_w)) for line in n.message.splitlines() or [""])
            used += lines + 1                      # and the margin under it
            if i >= TOASTS_SHOWN or (i and used > room):
                for old in notes[i:]:
                    if old in self._notifications:
                        self._unnotify(old)
                return

    def on_resize(self, event) -> None:
        self.call_after_refresh(self.place_toasts)
