"""A panel's scrollable text drawn with Textual's Line API: only the lines in
view are rendered, and new content repaints the panel without a layout pass
of the whole screen.

A Static inside a scroll container (what the panels used) renders all its
content to measure its height, and every update whose height may differ
asks Textual to lay out the whole screen again: measured, that pass and the
full repaint after it were most of a frame's cost on a 160x48 screen, and a
Why-log of 200 lines took about a second to switch to on a loaded machine.
Here the content's height is the virtual size of a ScrollView, set without
a layout (`InPlace`; only a scrollbar appearing or going away still needs
one). The trees of the screen use `InPlace` too.

Two kinds of content:
- `show_lines(texts)`: one Text per line, cut at the width with an
  ellipsis; each line is rendered only when it comes into view (a cache
  keeps rendered lines until the content or the width changes);
- `show(renderable)`: any Rich renderable (tables, groups), rendered once
  per update at the panel's width, for content that is already bounded to
  what fits (a page of lanes, of messages).
`content` is the last renderable or Group of lines given (tests print it).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.css.scalar import Unit


class InPlace:
    """For a Line API widget (a ScrollView, a Tree) whose size its container
    sets (width and height in fr): a change of its content, which Textual
    answers with a layout of the whole screen (a new virtual size, a node
    added to a tree), repaints the widget and updates its scrollbars
    instead. A scrollbar that appears or goes away still lays out, since the
    widget's content area changes then."""

    _in_place_busy = False

    def _sized_by_container(self) -> bool:
        styles = self.styles
        return bool(self.size.area) and all(
            rule is not None and rule.unit == Unit.FRACTION
            for rule in (styles.width, styles.height))

    def refresh(self, *regions, repaint: bool = True, layout: bool = False,
                recompose: bool = False):
        update = getattr(self, "_scroll_update", None)
        if layout and not recompose and update is not None and not self._in_place_busy \
                and self._sized_by_container():
            bars = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
            self._in_place_busy = True
            try:
                update(self.virtual_size)
            finally:
                self._in_place_busy = False
            layout = bars != (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class LinesView(InPlace, ScrollView, can_focus=False):
    DEFAULT_CSS = """
    LinesView {
        height: 1fr;
        overflow-x: hidden;
    }
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._texts: list[Text] | None = []      # one line each (show_lines)
        self._renderable: RenderableType | None = None
        self._strips: list[Strip] | None = None  # show(): rendered at _width
        self._cache: dict[int, Strip] = {}     # styled lines by index
        self._width = 0
        self._style, self._top, self._line_w = None, 0, 0
        self.content: RenderableType = Group()

    # -- content ----------------------------------------------------------------------

    def show_lines(self, texts: list[Text]) -> None:
        self._texts, self._renderable, self._strips = list(texts), None, None
        self.content = Group(*self._texts)
        self._cache.clear()
        self._resize_virtual(len(self._texts))
        self.refresh()

    def show(self, renderable: RenderableType) -> None:
        self._texts, self._renderable, self._strips = None, renderable, None
        self.content = renderable
        self._cache.clear()
        self._render_all()
        self.refresh()

    def lines(self) -> list[str]:
        """The plain text of each line (tests read it)."""
        if self._texts is not None:
            return [t.plain for t in self._texts]
        self._render_all()
        return ["".join(s.text for s in strip).rstrip() for strip in self._strips or []]

    # -- drawing ----------------------------------------------------------------------

    def _line_width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def _render_all(self) -> None:
        if self._renderable is None:
            return
        width = self._line_width()
        console = self.app.console
        options = console.options.update_width(width).update(height=None)
        lines = console.render_lines(self._renderable, options, pad=False)
        self._strips = [Strip(line) for line in lines]
        self._width = width
        self._resize_virtual(len(self._strips))

    def _resize_virtual(self, height: int) -> None:
        # a new height repaints in place (InPlace), unless a scrollbar comes or goes
        self.virtual_size = Size(self._line_width(), height)

    def on_resize(self) -> None:
        self._cache.clear()
        if self._renderable is not None and self._line_width() != self._width:
            self._render_all()
        elif self._texts is not None:
            self._resize_virtual(len(self._texts))
        self.refresh()

    def render_lines(self, crop):
        # the widget's style walks its ancestors' styles: once a paint, not
        # once a line (measured: most of a repaint's time otherwise)
        style = self.rich_style
        width = self.scrollable_content_region.width or self.size.width
        if (style, width) != (self._style, self._line_w):
            self._cache.clear()          # a new theme or width: lines drawn again
        self._style, self._line_w = style, width
        self._top = round(self.scroll_offset.y)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self._top + y
        strip = self._cache.get(index)
        if strip is None:
            strip = self._make(index, self._line_w).apply_style(self._style)
            self._cache[index] = strip
        return strip

    def _make(self, index: int, width: int) -> Strip:
        if self._texts is not None:
            if index >= len(self._texts):
                return Strip.blank(width)
            line = self._texts[index]
            if line.cell_len > width:
                line = line.copy()
                line.truncate(width, overflow="ellipsis")
            segments = [s for s in line.render(self.app.console) if s.text != "\n"]
            return Strip(segments).extend_cell_length(width)
        if self._strips is None or index >= len(self._strips):
            return Strip.blank(width)
        return self._strips[index].crop_extend(0, width, None)


def update_static(static, content: RenderableType) -> None:
    """`Static.update` that asks for a screen layout only when the content's
    height at the static's width changes (an update of the same height
    repaints the static alone). The height is Textual's own measure of the
    new content, compared with the one measured at the last update."""
    width = static.content_region.width if static.size.width else 0
    if width <= 0:
        static.update(content)
        return
    static.update(content, layout=False)
    height = static.get_content_height(static.size, static.app.size, width)
    if (width, height) != getattr(static, "_esmlab_measured", None):
        static.refresh(layout=True)
    static._esmlab_measured = (width, height)
