"""A second opinion on a float's region from PyMuPDF's offline layout model (`pymupdf.layout`, ONNX,
shipped with PyMuPDF 2.0): `page.get_layout()` labels the page's blocks (`picture`, `table`, `caption`,
`text`, ...).

It costs seconds a page on a CPU, so it runs only where the rules are unsure: a caption without a
region, or a region that failed `checks.check_region`. Its boxes are taken only next to the caption
(above, below or beside it), clear of every caption, and the result goes through the same check.
"""

from __future__ import annotations

import pymupdf

from .captions import Caption
from .geometry import Rect
from .layout import DocStats

# Classes of the model that hold a float (pictures, tables; code listings come as `picture` or `table`).
FLOAT_CLASSES = {"figure": ("picture", "table"), "table": ("table", "picture")}
# A box is next to its caption when the gap between them is at most this many body lines (the space
# above a caption) and it covers at least `MIN_COVER` of the caption's width (or lies that much in its
# column; or covers that much of its height, beside it).
MAX_GAP_LINES = 3.0
MIN_COVER = 0.5


class LayoutModel:
    """Model boxes per page, computed once per page and counted (`pages` says on how many it ran)."""

    def __init__(self) -> None:
        self._boxes: dict[int, list[tuple[Rect, str]]] = {}
        self.available = hasattr(pymupdf.Page, "get_layout")

    @property
    def pages(self) -> int:
        return len(self._boxes)

    def boxes(self, page: pymupdf.Page) -> list[tuple[Rect, str]]:
        if page.number not in self._boxes:
            out: list[tuple[Rect, str]] = []
            if self.available:
                page.get_layout()
                for b in getattr(page, "layout_information", None) or []:
                    out.append((Rect.of(b[:4]), str(b[4])))
            self._boxes[page.number] = out
        return self._boxes[page.number]


def _clear_of(box: Rect, caption: Rect) -> Rect | None:
    """The box without the caption: a model box that runs over the caption is cut at it, on the side
    where most of the box lies."""
    if box.intersection(caption) is None:
        return box
    parts = [
        Rect(box.x0, box.y0, box.x1, min(box.y1, caption.y0 - 1)),
        Rect(box.x0, max(box.y0, caption.y1 + 1), box.x1, box.y1),
        Rect(box.x0, box.y0, min(box.x1, caption.x0 - 1), box.y1),
        Rect(max(box.x0, caption.x1 + 1), box.y0, box.x1, box.y1),
    ]
    best = max(parts, key=lambda r: r.area if r.width > 0 and r.height > 0 else 0.0)
    return best if best.width > 0 and best.height > 0 else None


def _clear_of_text(box: Rect, cap: Rect, body: list[Rect]) -> Rect:
    """The box cut back from body text it runs over (a picture box reaching into the next column): at
    the body rows beside the caption's side, left and right."""
    over = [r for r in body if r.overlap_area(box) > 0.2 * max(r.area, 1e-6)]
    cx = (cap.x0 + cap.x1) / 2
    right = [r.x0 for r in over if r.x0 > cx]
    left = [r.x1 for r in over if r.x1 < cx]
    x0 = max([box.x0, *left])
    x1 = min([box.x1, *right])
    return Rect(x0, box.y0, x1, box.y1) if x1 - x0 > 1 else box


def model_region(
    model: LayoutModel,
    page: pymupdf.Page,
    c: Caption,
    captions: list[Caption],
    stats: DocStats,
    body: list[Rect] | None = None,
) -> Rect | None:
    """The model's float box next to caption `c`, or None."""
    cap = Rect.of(c.bbox)
    reach = MAX_GAP_LINES * stats.line_height
    band = stats.column_of(cap.x0, cap.x1) or (min(stats.text_x0, cap.x0), max(stats.text_x1, cap.x1))
    best, best_key = None, None
    for box, cls in model.boxes(page):
        if cls not in FLOAT_CLASSES.get(c.kind, ()):
            continue
        box = _clear_of(Rect.of(box), cap)
        for other in captions:
            if box is not None and other is not c:
                box = _clear_of(box, Rect.of(other.bbox))
        if box is None:
            continue
        box = _clear_of_text(box, cap, body or [])
        h_cover = max(0.0, min(box.x1, cap.x1) - max(box.x0, cap.x0)) / max(min(cap.width, box.width), 1)
        # (or the box lies mostly in the caption's column: a short caption under a centred figure)
        h_cover = max(h_cover, max(0.0, min(box.x1, band[1]) - max(box.x0, band[0])) / max(box.width, 1))
        v_cover = max(0.0, min(box.y1, cap.y1) - max(box.y0, cap.y0)) / max(min(cap.height, box.height), 1)
        if h_cover >= MIN_COVER:
            gap = max(cap.y0 - box.y1, box.y0 - cap.y1)
        elif v_cover >= MIN_COVER:
            gap = max(cap.x0 - box.x1, box.x0 - cap.x1)
        else:
            continue
        if gap > reach or gap < -2:
            continue
        key = (FLOAT_CLASSES[c.kind].index(cls), gap)
        if best_key is None or key < best_key:
            best, best_key = box, key
    return best
