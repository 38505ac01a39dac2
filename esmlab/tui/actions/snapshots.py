"""Snapshots, rewind and exporting an invocation's event."""

from __future__ import annotations

import json
from pathlib import Path

from esmlab import readmodels as rm
from esmlab.tui.screens.forms import AskScreen, PickScreen
from esmlab.tui.screens.resources import ConfirmScreen


class SnapshotActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def action_save_snapshot(self) -> None:
        if not self._guard():
            return
        start = self.lab.engine.start_ms
        elapsed = self.lab.engine.now_ms - start

        def save(name: str) -> None:
            if self._call(self.lab.save_snapshot, name) is None:
                self.notify(f"snapshot {name} saved at T+{rm.rel(elapsed)}")

        def done(values):
            if not values or not values["name"].strip():
                return
            name = values["name"].strip()
            old = next((s for s in self.lab.snapshots() if s["name"] == name), None)
            if old is None:
                save(name)
                return
            self.push_screen(ConfirmScreen(
                f"Overwrite snapshot {name}?",
                f"A snapshot named {name} exists (saved at T+{rm.rel(old['saved_at_ms'] - start)}"
                f", {old['commands']} commands). Saving replaces it with the lab as it is now "
                f"(T+{rm.rel(elapsed)}, {len(self.lab.commands())} commands); the old one is "
                "gone.", yes="Overwrite"),
                lambda yes: save(name) if yes else self.notify(f"snapshot {name} kept as it was"))
        self.push_screen(AskScreen("Save a snapshot", [
            ("name", "name", f"t{elapsed // 1000}")], ok="Save"), done)

    def action_open_snapshot(self) -> None:
        if not self._guard():
            return
        start = self.lab.engine.start_ms
        options = [(f"{s['name']}  (T+{rm.rel(s['saved_at_ms'] - start)}, "
                    f"{s['commands']} commands)", s["name"]) for s in self.lab.snapshots()]
        if not options:
            self.notify("no snapshot yet: ctrl+s saves one", severity="warning")
            return

        def restore(name: str, dropped: list[dict]) -> None:
            said = "restored"
            if dropped:
                said += f"; dropped {len(dropped)} command(s) no snapshot held: " + \
                    command_summary(dropped)
            self._long(lambda: (self.lab.restore_snapshot(name), said)[1],
                       f"open snapshot {name}")

        def done(name):
            if not name:
                return
            dropped = self.lab.unsaved_commands()
            if not dropped:
                restore(name, [])
                return
            self.push_screen(ConfirmScreen(
                f"Drop unsaved work and open {name}?",
                f"The lab's last {len(dropped)} command(s) are in no snapshot and restoring "
                f"drops them: {command_summary(dropped)}. Save a snapshot first (ctrl+s) to "
                "keep them.", yes="Drop and open"),
                lambda yes: restore(name, dropped) if yes else None)
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



def command_summary(commands: list[dict], most: int = 6) -> str:
    """"step ×5, send_message ×2, advance_to": what a list of commands did."""
    from collections import Counter
    counts = Counter(c["name"] for c in commands)
    parts = [name if n == 1 else f"{name} ×{n}" for name, n in counts.most_common(most)]
    if len(counts) > most:
        parts.append(f"and {len(counts) - most} other kind(s)")
    return ", ".join(parts)
