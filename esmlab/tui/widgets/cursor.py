"""A cursor over the rows a panel draws, so `w` x-rays the record, message
or invocation under it.

A panel drawn as one Static (Ordering, DLQ, Why-log, X-ray) keeps the model
it last showed; its render function takes a `Rows` and, for each row the
cursor can sit on, says which screen line it is on and what it names (an id
`esmlab.story` resolves: a message id, a sequence number, an invocation
number, or a Why-log event's journal id as `event:N`). Moving the cursor
redraws from the kept model: it never reads the lab.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region

CURSOR_STYLE = "reverse"


class Rows:
    """What one render drew: each cursor row's screen line and the ids along
    it (a stream lane has several records; other rows have one id)."""

    def __init__(self, row: int = 0, col: int = 0, width: int = 0):
        self.want = (row, col)     # where the cursor is asked to be
        self.width = width         # the panel's width, for lines that wrap (0: unknown)
        self.refs: list[list[str | None]] = []
        self.lines: list[int] = []

    def add(self, line: int, refs: list[str | None]) -> int | None:
        """Record a row; returns the column the cursor is on when it is this
        row (clamped to the row's length), else None."""
        index = len(self.refs)
        self.refs.append(list(refs) or [None])
        self.lines.append(line)
        if index != self.want[0]:
            return None
        return min(self.want[1], len(self.refs[-1]) - 1)

    def __len__(self) -> int:
        return len(self.refs)


class CursorPanel(VerticalScroll):
    """A scrolling panel with a row cursor. Subclasses implement
    `draw(model, rows)`, which renders `model` into the panel and fills
    `rows`; `show(model)` keeps the model and draws it."""

    BINDINGS = [
        Binding("up", "cursor(-1, 0)", "Up", show=False),
        Binding("down", "cursor(1, 0)", "Down", show=False),
        Binding("left", "cursor(0, -1)", "Left", show=False),
        Binding("right", "cursor(0, 1)", "Right", show=False),
        Binding("pageup", "cursor(-10, 0)", "Page up", show=False),
        Binding("pagedown", "cursor(10, 0)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "app.xray", "X-ray", show=False),
        Binding("escape", "app.focus('tree')", "Tree", show=False),
    ]

    cursor_row = 0
    cursor_col = 0
    _moved = False

    def show(self, model) -> None:
        if model is not None and model == getattr(self, "_model", None):
            return          # the same page again (another selection of the same source)
        # a cursor the user moved stays on its id; an untouched one stays on
        # the first row (the newest event, the head of the queue)
        kept = self.current_ref() if self._moved else None
        self._model = model
        if not self._moved:
            self.cursor_row, self.cursor_col = self.home(model)
        self._redraw()
        if kept is not None and kept != self.current_ref():
            # the rows moved (new events on top, a checkpoint moved): follow the id
            for r, refs in enumerate(self._rows.refs):
                if kept in refs:
                    self.cursor_row, self.cursor_col = r, refs.index(kept)
                    self._redraw()
                    self.call_after_refresh(self.scroll_to_cursor)
                    break

    def draw(self, model, rows: Rows) -> None:          # pragma: no cover - abstract
        raise NotImplementedError

    def home(self, model) -> tuple[int, int]:
        """Where an untouched cursor sits: the first row (a panel may point at
        what matters most, e.g. the batch being retried)."""
        return (0, 0)

    def _redraw(self) -> None:
        rows = Rows(self.cursor_row, self.cursor_col, max(0, (self.size.width or 80) - 2))
        self.draw(getattr(self, "_model", None), rows)
        self._rows = rows
        if len(rows) and self.cursor_row >= len(rows):
            # the list got shorter: stay on its last row
            self.cursor_row = len(rows) - 1
            self._redraw()

    def current_ref(self) -> str | None:
        """The id under the cursor (None when the row names nothing)."""
        rows = getattr(self, "_rows", None)
        if rows is None or not len(rows):
            return None
        refs = rows.refs[min(self.cursor_row, len(rows) - 1)]
        return refs[min(self.cursor_col, len(refs) - 1)]

    def row_count(self) -> int:
        rows = getattr(self, "_rows", None)
        return len(rows) if rows is not None else 0

    def action_cursor(self, rows: int, cols: int) -> None:
        n = self.row_count()
        if not n:
            return
        self._moved = True
        if rows:
            self.cursor_row = max(0, min(n - 1, self.cursor_row + int(rows)))
            width = len(self._rows.refs[self.cursor_row])
            self.cursor_col = min(self.cursor_col, width - 1)
        if cols:
            width = len(self._rows.refs[self.cursor_row])
            self.cursor_col = max(0, min(width - 1, self.cursor_col + int(cols)))
        self._redraw()
        self.call_after_refresh(self.scroll_to_cursor)

    def action_cursor_to(self, row: int) -> None:
        n = self.row_count()
        if n:
            self.action_cursor((int(row) % n) - self.cursor_row, 0)

    def move_cursor(self, row: int, col: int = 0) -> None:
        """Put the cursor on a row (a panel does so when its content changes
        meaning, e.g. another queue is selected)."""
        self.cursor_row, self.cursor_col = max(0, row), max(0, col)
        self._moved = False

    def on_click(self, event) -> None:
        """A click puts the cursor on the row clicked (a double click x-rays it)."""
        rows = getattr(self, "_rows", None)
        if rows is None or not len(rows):
            return
        inner = self._lines_view()
        offset = event.get_content_offset(inner)
        if offset is None:
            return
        y = offset.y + int(inner.scroll_y)
        row = max((i for i, line in enumerate(rows.lines) if line <= y), default=0)
        self._moved = True
        self.cursor_row = row
        self.cursor_col = min(self.cursor_col, len(rows.refs[row]) - 1)
        self._redraw()
        if getattr(event, "chain", 1) >= 2:
            self.app.action_xray()

    def _lines_view(self):
        # a panel drawn by a LinesView scrolls inside it (it draws only what is in view)
        from esmlab.tui.widgets.lines import LinesView
        inner = self.query(LinesView)
        return inner.first() if inner else self

    def scroll_to_cursor(self) -> None:
        rows = getattr(self, "_rows", None)
        if rows is None or not len(rows) or not hasattr(self, "scroll_to_region"):
            return
        line = rows.lines[min(self.cursor_row, len(rows) - 1)]
        self._lines_view().scroll_to_region(Region(0, line, 1, 1), animate=False, immediate=True)
