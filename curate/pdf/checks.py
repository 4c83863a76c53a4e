"""The check on every float region before its row is written: a doubtful region is not written as if it
were good.

A region fails when it is
- degenerate: a strip (a rule above a caption, one line of text) with a side under `MIN_SIDE_PX` pixels
  at the render resolution, the size `validate` flags in an output folder too;
- mostly body text: running text of the page fills much of it (a float grown into the text flow, or a
  paragraph taken for a float);
- holding a caption: its own (the caption belongs in the caption field, not in the picture) or another
  float's (two floats in one crop);
- overlapping another float's region on the same page (one of the two, or both, took the other's part).

`check_region` says what looked wrong in words fit for an `errors` row, or None when the region passes.
"""

from __future__ import annotations

from .captions import Caption
from .geometry import Rect
from .layout import PageText
from .regions import Graphics

# A side under 20 px is no picture of a float: a rule (a few px) or a line of text (about 20 px at
# 150 dpi for 10 pt type) is the smallest thing the rules take by mistake; `validate` uses the same size.
MIN_SIDE_PX = 20
# Running text covering this share of the region (by the area of its rows' boxes) makes it mostly body
# text: rows of prose fill about 70% of their lines' area, so 0.35 is half the region set as prose; the
# rows must be at least `MIN_BODY_ROWS` (one or two body lines beside a figure are crop slack).
BODY_SHARE = 0.35
MIN_BODY_ROWS = 3
# A drawn frame or shaded box covering this share of the region makes the text inside it boxed content
# (an example, a listing set in the body font), not the text flow.
FRAME_SHARE = 0.9
# Nor is a region less than two body lines high (or wide): one line of text or a label, never a float
# (the smallest real floats, one-row tables and inline plots, are taller than two lines with their rules).
MIN_FLOAT_LINES = 2.0
# A caption row counts as inside a region when this share of its box is inside.
CAPTION_INSIDE = 0.5
# Two regions overlap when they share this share of the smaller one (panels of one float never come as
# two regions; touching frames share well under 5%).
OVERLAP_SHARE = 0.1


def degenerate(rect: Rect, dpi: int) -> str | None:
    w, h = (rect[2] - rect[0]) * dpi / 72, (rect[3] - rect[1]) * dpi / 72
    if min(w, h) < MIN_SIDE_PX:
        return (
            f"the region found is a {w:.0f} x {h:.0f} px strip at {dpi} dpi (a rule or one line of "
            "text), not a float"
        )
    return None


def _inside(row_rect: Rect, rect: Rect) -> bool:
    return Rect.of(row_rect).overlap_area(rect) >= CAPTION_INSIDE * max(Rect.of(row_rect).area, 1e-6)


def check_region(
    rect: Rect,
    caption: Caption,
    page: PageText,
    captions: list[Caption],
    others: dict[int, Rect],
    dpi: int,
    graphics: Graphics | None = None,
    line_height: float | None = None,
) -> str | None:
    """What is wrong with the region of `caption` (None when nothing is): `captions` are all captions of
    the page, `others` the regions of the other floats on it (keyed by id(caption)), `rules` the page's
    graphics (rows between two rules of the region are table rows, rows inside a frame or shaded box
    that makes the region are its content, even in the body style)."""
    rect = Rect.of(rect)
    reason = degenerate(rect, dpi)
    if reason:
        return reason
    if line_height and min(rect.width, rect.height) < MIN_FLOAT_LINES * line_height:
        return (
            f"the region found is {rect.width:.0f} x {rect.height:.0f} pt, less than two lines of text "
            "high or wide: a line or a label, not a float"
        )
    graphics = graphics or Graphics()
    inner = [r for r in map(Rect.of, graphics.rules) if r.intersection(rect) is not None]
    framed = any(
        e.kind == "path" and e.rect.overlap_area(rect) >= FRAME_SHARE * rect.area for e in graphics.elements
    )

    def ruled(row) -> bool:
        across = [r for r in inner if min(r.x1, row.x1) - max(r.x0, row.x0) > 0.5 * row.width]
        return any(r.y1 <= row.y0 + 1 for r in across) and any(r.y0 >= row.y1 - 1 for r in across)

    body = [
        r for r in page.rows if r.role == "body" and r.horizontal and _inside(r.rect, rect) and not ruled(r)
    ]
    body_area = sum(rect.overlap_area(r.rect) for r in body)
    if not framed and len(body) >= MIN_BODY_ROWS and body_area >= BODY_SHARE * rect.area:
        return (
            f"the region is mostly body text ({len(body)} rows of running text fill "
            f"{100 * body_area / rect.area:.0f}% of it)"
        )
    here = [c for c in captions if c.rows[0].page == page.number]  # (a float on a page of its own)
    if caption in here and _inside(caption.rows[0].rect, rect):
        return "the region takes in its own caption"
    for other in here:
        if other is not caption and _inside(other.rows[0].rect, rect):
            return f"the region holds the caption of {other.kind} {other.number}"
    by_id = {id(c): c for c in captions}
    for cid, o in others.items():
        if cid == id(caption) or o is None:
            continue
        shared = rect.overlap_area(o)
        if shared > OVERLAP_SHARE * max(min(rect.area, Rect.of(o).area), 1e-6):
            c = by_id.get(cid)
            what = f"{c.kind} {c.number}" if c else "another float"
            return f"the region overlaps the region of {what} ({100 * shared / rect.area:.0f}% of it)"
    return None
