"""The learner's progress: which lessons they finished and how their
predictions scored.

It is the learner's, not the lab's, so it lives in the user's config folder
($XDG_CONFIG_HOME/esmlab/progress.json, else ~/.config/esmlab/progress.json),
beside the challenges' challenges.json, and never in a lab file: a lab sent
to a colleague carries no one's score. A missing or unreadable file is no
progress; a folder that cannot be written loses the record, never the play.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "esmlab"


def progress_path() -> Path:
    return config_dir() / "progress.json"


def lessons() -> dict:
    """{lesson name: {"plays", "finished", "predictions": {asked, answered,
    right} of the best-scoring play}}."""
    try:
        data = json.loads(progress_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("lessons") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def record_play(name: str, ok: bool, score: dict) -> dict:
    """Count one play of lesson `name` (finished once every check held) and
    keep the best prediction score; returns the lesson's entry."""
    data = lessons()
    old = data.get(name) if isinstance(data.get(name), dict) else {}
    entry = {"plays": int(old.get("plays", 0)) + 1,
             "finished": bool(old.get("finished")) or bool(ok)}
    best = old.get("predictions") if isinstance(old.get("predictions"), dict) else None
    if score.get("answered") and (best is None or score["right"] > best.get("right", 0)):
        best = {k: int(score[k]) for k in ("asked", "answered", "right")}
    if best is not None:
        entry["predictions"] = best
    data[name] = entry
    _write({"lessons": data})
    return entry


def _write(document: dict) -> None:
    write_json(progress_path(), document)


def write_json(path: Path, document: dict) -> None:
    """Write a file of the user's config folder whole or not at all (a
    temporary file renamed into place); in a read-only home nothing is kept,
    and the lesson or check that asked still answers."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                         encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
        os.replace(handle.name, path)  # a crash never leaves half a file
    except OSError:
        pass
