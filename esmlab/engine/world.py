"""The engine: clock, chance, journal and every service, over one store.

State lives in SQLite; the few scalars that change on every call (the clock
and the generator's state) are held here and written back by `flush()` at
the end of each transaction, and re-read by `load()` after a rollback.
"""

from __future__ import annotations

from esmlab.engine.clock import Agenda
from esmlab.engine.journal import Journal
from esmlab.engine.rng import LabRandom

# 2024-01-01T00:00:00Z: a fixed, readable start for labs that do not name one.
DEFAULT_START_MS = 1_704_067_200_000
PROFILES = ("current", "classic")
# SQS MaximumMessageSize when a queue does not set it: 1 MiB since 2025
# (reference 8.6). A lab made before that kept 256 KiB (its meta has no
# sqs_max_message_size), so it replays exactly as it ran.
SQS_MAX_MESSAGE_SIZE = 1_048_576
SQS_MAX_MESSAGE_SIZE_BEFORE = 262_144


class Engine:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn
        self.load()

    @staticmethod
    def initialise(store, *, name: str, seed: int, profile: str, start_ms: int,
                   sqs_max_message_size: int = SQS_MAX_MESSAGE_SIZE) -> None:
        """Write the initial state of a new lab (everything else starts empty)."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        for key, value in (("name", name), ("seed", seed), ("profile", profile),
                           ("start_ms", start_ms), ("now_ms", start_ms),
                           ("rng", LabRandom.from_seed(seed).state),
                           ("account_concurrency", 1000),
                           ("sqs_max_message_size", sqs_max_message_size)):
            store.set_meta(key, str(value))

    def load(self) -> None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        self.name = meta.get("name", "lab")
        self.seed = int(meta.get("seed", 1))
        self.profile = meta.get("profile", "current")
        self.start_ms = int(meta.get("start_ms", DEFAULT_START_MS))
        self.account_concurrency = int(meta.get("account_concurrency", 1000))
        self.sqs_max_message_size = int(meta.get("sqs_max_message_size",
                                                 SQS_MAX_MESSAGE_SIZE_BEFORE))
        self.rng = LabRandom(int(meta.get("rng", LabRandom.from_seed(self.seed).state)))
        self.agenda = Agenda(self.conn, int(meta.get("now_ms", self.start_ms)))
        if "instant_part" in meta:
            self.agenda.part_at, self.agenda.part = (int(v) for v in
                                                     meta["instant_part"].split(":"))
        self._flushed = {k: meta[k] for k in ("now_ms", "rng", "profile", "account_concurrency",
                                              "instant_part") if k in meta}
        self.journal = Journal(self.conn, self.agenda)
        self._services()

    def _services(self) -> None:
        # Imported here so each service module can import Engine for typing
        # without a cycle.
        from esmlab.engine.function import Functions
        from esmlab.engine.mappings.service import Mappings
        from esmlab.engine.sinks import Sinks
        from esmlab.engine.sources.consumers import Consumers
        from esmlab.engine.sources.message_moves import MessageMoves
        from esmlab.engine.sources.queue import Queues
        from esmlab.engine.sources.stream import Streams
        from esmlab.engine.sources.table import Tables

        self.sinks = Sinks(self)
        self.queues = Queues(self)
        self.message_moves = MessageMoves(self)
        self.streams = Streams(self)
        self.consumers = Consumers(self)
        self.tables = Tables(self)
        self.functions = Functions(self)
        self.mappings = Mappings(self)

    @property
    def now_ms(self) -> int:
        return self.agenda.now_ms

    def flush(self) -> None:
        """Write the buffered journal events and metric samples and the
        scalars that changed since the last flush (or load)."""
        self.journal.flush()
        self.agenda.flush()
        functions = getattr(self, "functions", None)  # (unit tests build bare engines)
        if functions is not None:
            functions.flush()
        mappings = getattr(self, "mappings", None)
        if mappings is not None:
            mappings.flush()
        values = {"now_ms": str(self.agenda.now_ms), "rng": str(self.rng.state),
                  "profile": self.profile,
                  "account_concurrency": str(self.account_concurrency)}
        if self.agenda.part_at is not None:
            # Which step of the current instant the lab is at ("part 3"): a
            # read for the screen, derived (replay rebuilds it).
            values["instant_part"] = f"{self.agenda.part_at}:{self.agenda.part}"
        for key, value in values.items():
            if self._flushed.get(key) != value:
                self.store.set_meta(key, value)
        self._flushed = values

    def log(self, kind, resource, reason, subject=None, data=None) -> None:
        self.journal.log(kind, resource, reason, subject, data)
