"""The lesson library: the scenario files in `scenarios/`.

A wheel carries them inside the package (`esmlab/lesson_files/`, see
pyproject.toml); a source checkout or an editable install reads them from
the repository's `scenarios/` folder. Either way a lesson can be named by
its bare name, e.g. `esmlab play kinesis-error-blocks-shard`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def lesson_dir() -> Path | None:
    for candidate in (_PACKAGE / "lesson_files", _PACKAGE.parent / "scenarios"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


def list_lessons() -> list[Path]:
    folder = lesson_dir()
    return sorted(folder.glob("*.yaml")) if folder else []


def resolve(name_or_path: str) -> str:
    """A path that exists is used as given; otherwise a bare lesson name
    (with or without .yaml) is looked up in the library."""
    if Path(name_or_path).exists():
        return name_or_path
    folder = lesson_dir()
    if folder is not None:
        stem = Path(name_or_path).name.removesuffix(".yaml")
        candidate = folder / f"{stem}.yaml"
        if candidate.exists():
            return str(candidate)
    return name_or_path
