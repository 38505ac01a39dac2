"""The lab file on screen: another process's commits redrawn without a
key press, and a file that cannot be used now said in one sentence."""

from __future__ import annotations

import sqlite3

from esmlab.errors import LabFileError
from esmlab.tui.said import said

# a lab file locked or changed by another process, damaged, read-only, disk full
LAB_FILE_ERRORS = (LabFileError,)
READ_ONLY = "read-only: every change is refused"
SYNC_S = 1.0    # how often the screen looks for another process's commits (real seconds)


class LabFileActions:
    """Mixed into EsmlabApp; uses its lab, busy/autoplay and reload_view()."""

    def sync_with_file(self) -> bool:
        """Another process (`esmlab play --lab`, a second screen) committed to
        the lab: reload it and redraw. Costs one PRAGMA data_version when
        nothing changed. A file that cannot be read now gives a sentence in
        the header; the screen stays."""
        if self.busy or self.autoplay:
            return False         # the worker or the autoplay's next command catches up
        try:
            changed = self.lab.sync()
        except LAB_FILE_ERRORS as exc:
            return self._sync_failed(exc)
        except sqlite3.Error as exc:
            from esmlab.store import file_error
            return self._sync_failed(file_error(self.lab.path, exc) or exc)
        if self._file_trouble is not None:
            self._file_trouble = None
            self.lab_error = READ_ONLY if getattr(self.lab.store, "readonly", False) else None
            self.show_header()
        if changed:
            self.reload_view()
        return changed

    def _sync_failed(self, exc) -> bool:
        if self._file_trouble is None:      # said once, not once a second
            self._file_trouble = exc
            self._lab_file_error(exc)
        return False

    def _lab_file_error(self, exc) -> None:
        self.lab_error = READ_ONLY if getattr(self.lab.store, "readonly", False) else \
            f"{type(exc).__name__}: lab file not usable now"
        self.show_header()
        self.notify(said(exc), title="lab file", severity="error", timeout=10)
