"""Snapshots, rewind and exporting an invocation's event."""

from __future__ import annotations

import json
from pathlib import Path

from esmlab import readmodels as rm
from esmlab.tui.screens.forms import AskScreen, PickScreen


class SnapshotActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def action_save_snapshot(self) -> None:
        if not self._guard():
            return

        def done(values):
            if values and values["name"].strip():
                name = values["name"].strip()
                if self._call(self.lab.save_snapshot, name) is None:
                    self.notify(f"snapshot {name} saved at T+{rm.rel(elapsed)}")
        elapsed = self.lab.engine.now_ms - self.lab.engine.start_ms
        self.push_screen(AskScreen("Save a snapshot", [
            ("name", "name", f"t{elapsed // 1000}")], ok="Save"), done)

    def action_open_snapshot(self) -> None:
        if not self._guard():
            return
        start = self.lab.engine.start_ms
        options = [(f"{s['name']}  (T+{rm.rel(s['saved_at_ms'] - start)}, "
                    f"{s['commands']} commands)", s["name"]) for s in self.lab.snapshots()]

        def done(name):
            if name:
                self._long(lambda: self.lab.restore_snapshot(name), f"open snapshot {name}")
        self.push_screen(PickScreen("Open a snapshot", options), done)

    def action_rewind(self) -> None:
        if not self._guard():
            return
        from esmlab.scenario.durations import DurationError, parse_duration
        now_ms = (self.lab.engine.now_ms - self.lab.engine.start_ms)

        def check(values):
            try:
                at = parse_duration(values["at"].strip().removeprefix("T+"))
            except DurationError as exc:
                return str(exc)
            if at > now_ms:
                return f"T+{rm.rel(at)} is after now (T+{rm.rel(now_ms)}): rewind goes back"
            return None

        def done(values):
            if not values:
                return
            at = parse_duration(values["at"].strip().removeprefix("T+"))
            to_ms = self.lab.engine.start_ms + at
            self.player = None        # the scenario's steps no longer match the lab
            self._long(lambda: self.lab.rewind(to_ms), f"rewind to T+{rm.rel(at)}")
        self.push_screen(AskScreen("Rewind to virtual time", [
            ("at", f"to T+ (now T+{rm.rel(now_ms)}; e.g. 90s, 2m, 1h30m)",
             rm.rel(max(0, now_ms - 10_000)).replace(".0s", "s"))],
            ok="Rewind", validate=check), done)

    def action_export_event(self) -> None:
        if not self._guard():
            return
        last = rm.last_invocation_id(self.lab, self.selected_function())

        def done(values):
            if not values:
                return
            try:
                inv = int(values["id"])
            except ValueError:
                self.notify("an invocation id, please", severity="error")
                return
            path = self.export_event(inv)
            if path:
                self.notify(f"event of invocation {inv} written to {path}")
        self.push_screen(AskScreen("Export an invocation's event (for sam local invoke -e)",
                                   [("id", "invocation id", last or "")], ok="Export"), done)

    def export_event(self, inv: int) -> str | None:
        event = rm.invocation_event(self.lab, inv)
        if event is None:
            self.notify(f"no event recorded for invocation {inv}", severity="error")
            return None
        path = Path(self.lab_path).resolve().parent / f"event-{inv}.json"
        path.write_text(json.dumps(event, indent=2) + "\n")
        return str(path)

