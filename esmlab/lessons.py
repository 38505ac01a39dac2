"""The lesson library: the scenario files in `scenarios/`.

A wheel carries them inside the package (`esmlab/lesson_files/`, see
pyproject.toml); a source checkout or an editable install reads them from
the repository's `scenarios/` folder. Either way a lesson can be named by
its bare name, e.g. `esmlab play kinesis-error-blocks-shard`.

The lessons are read in an order, the learner's path: basics, streams,
queues, failures, scaling, then the challenges (`scenarios/challenges/`).
`PATH` places each shipped lesson; a lesson it does not name yet goes to the
end of the section its name suggests (kinesis-/dynamodb- streams, sqs-/fifo-
queues, others basics), so a new lesson is never left out.
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


def closest_name(name: str) -> str | None:
    """The lesson or challenge name closest to a mistyped one, if any is
    close (for "did you mean ...?")."""
    import difflib
    names = [p.stem for p in list_lessons()] + [p.stem for p in list_challenges()]
    found = difflib.get_close_matches(Path(name).name.removesuffix(".yaml"), names, n=1,
                                      cutoff=0.6)
    return found[0] if found else None


def list_challenges() -> list[Path]:
    """The challenges: lessons that start broken (scenarios/challenges/)."""
    return _sub("challenges")


def list_conformance() -> list[Path]:
    """The conformance cases: one recorded AWS rule each (scenarios/conformance/)."""
    return _sub("conformance")


def _sub(name: str) -> list[Path]:
    folder = lesson_dir()
    return sorted((folder / name).glob("*.yaml")) if folder and (folder / name).is_dir() else []


SECTIONS = ("basics", "streams", "queues", "failures", "scaling", "challenges")
PATH = {
    "basics": ("basics-poll-and-invoke", "execution-role-permissions",
               "handler-crash-is-a-function-error", "filter-criteria",
               "filter-dynamodb-typed-values"),
    "streams": ("kinesis-order-per-shard", "kinesis-starting-positions", "kinesis-two-consumers",
                "kinesis-batch-window", "batch-invoked-before-it-is-full",
                "kinesis-parallelization-factor",
                "dynamodb-stream-changes", "kinesis-tumbling-window", "kinesis-resharding"),
    "queues": ("sqs-long-polling", "sqs-batch-size", "sqs-delete-on-success",
               "sqs-standard-unordered", "sqs-duplicate-delivery", "sqs-duplicate-every-message",
               "fifo-order-per-group", "sqs-visibility-timeout-too-short"),
    "failures": ("kinesis-retry-until-expiry", "kinesis-error-blocks-shard",
                 "kinesis-max-record-age", "kinesis-max-retry-attempts",
                 "kinesis-bisect-on-error", "kinesis-on-failure-destination",
                 "kinesis-partial-batch-response", "sqs-error-regrouping", "sqs-dlq-redrive",
                 "sqs-dlq-not-lambda-destination", "sqs-partial-batch-response",
                 "sqs-malformed-partial-response", "sqs-error-overrides-partial-response",
                 "fifo-partial-batch-response", "sqs-throttle-to-dlq", "sqs-recursive-loop"),
    "scaling": ("kinesis-concurrency-per-shard", "sqs-scaling-classic", "sqs-scaling-current",
                "sqs-maximum-concurrency", "sqs-provisioned-mode", "fifo-scaling-active-groups",
                "fifo-hot-group-runs-serially"),
}


def section_of(name: str) -> str:
    for section, names in PATH.items():
        if name in names:
            return section
    prefix = name.split("-", 1)[0]
    return {"kinesis": "streams", "dynamodb": "streams", "sqs": "queues",
            "fifo": "queues"}.get(prefix, "basics")


def learning_path() -> list[tuple[str, list[Path]]]:
    """[(section, [lesson files in reading order])], basics to challenges."""
    placed: dict[str, list[Path]] = {section: [] for section in SECTIONS}
    for path in list_lessons():
        placed[section_of(path.stem)].append(path)
    for section, names in PATH.items():
        order = {name: i for i, name in enumerate(names)}
        placed[section].sort(key=lambda p: (order.get(p.stem, len(order)), p.stem))
    placed["challenges"] = list_challenges()
    return [(section, placed[section]) for section in SECTIONS]


def resolve(name_or_path: str) -> str:
    """A path that exists is used as given; otherwise a bare lesson name
    (with or without .yaml) is looked up in the library, then among the
    challenges (scenarios/challenges/), so `esmlab play NAME` plays both."""
    if Path(name_or_path).exists():
        return name_or_path
    folder = lesson_dir()
    if folder is not None:
        stem = Path(name_or_path).name.removesuffix(".yaml")
        for candidate in (folder / f"{stem}.yaml", folder / "challenges" / f"{stem}.yaml"):
            if candidate.exists():
                return str(candidate)
    return name_or_path
