"""From captions and page graphics to float regions (the box to crop for each figure or table).

The method follows pdffigures2 (Clark & Divvala 2016) in spirit: a float lies next to its caption, in
the space bounded by body text, other captions and the page margins.

1. Page elements: raster image placements, vector drawings (clipped to their clip paths, merged into
   runs so a scatter plot of 20,000 markers is one element) and non-body text rows (axis labels,
   legends, table cells, code). Body text, running heads and captions are *blockers*.
2. For each caption, a horizontal band: its column, or the whole text width when the caption spans
   columns; side-by-side captions split the band between them.
3. Proposals in four directions: above and below the caption (up to the nearest blocker), and left or
   right of it (side captions, as in A&A's `sidecaption`). The content of a proposal is the run of
   elements that starts near the caption and has no large vertical gap.
4. The choice: figures prefer above, tables below (captions above tables are the norm); the other
   direction is used when the preferred one is empty, a side proposal when it holds clearly more than
   above/below and sits level with the caption. When two captions claim the same elements (a table
   caption above its table, a figure caption below its figure, stacked), the elements are split at
   the widest vertical gap between them.
5. The region is the union of its elements, grown to take in elements that touch it (axis labels,
   legends sticking out of the band) unless another float owns them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pymupdf

from .captions import Caption, series
from .geometry import BAND_PAD, EDGE_ZONE, Rect, union_all
from .layout import DocStats, PageText, Row, turn_matrix

# Notes under a ruled table: cut at the last rule across the table (`RULE_ACROSS` of its width) only when
# it has at least three such rules (top, head and bottom rules of a journal table).
RULE_ACROSS = 0.9
RULES_FOR_NOTES = 3
# Page furniture: the same drawing (to `FURNITURE_TOLERANCE` points) near the head or foot of at least
# `FURNITURE_PAGES` pages; a figure repeated on three pages at the very same place is no float.
FURNITURE_TOLERANCE = 2.0
# A horizontal line thinner than this is a rule; one set this far from a figure's picture, above or below
# it, is a layout rule (journals that rule off each figure), not a part of the figure.
RULE_HEIGHT = 2.0
EDGE_RULE_GAP = 3.0
FURNITURE_PAGES = 3


@dataclass
class Element:
    rect: Rect
    kind: str  # "image" | "path" | "text"
    row: Row | None = None
    # what a run of drawings is made of (hints for figure_type): small marks (scatter markers),
    # filled axis-aligned rectangles (bars, heatmap cells), other strokes (lines, curves, boxes)
    marks: int = 0
    rects: int = 0
    strokes: int = 0

    def __post_init__(self) -> None:
        self.rect = Rect.of(self.rect)


@dataclass
class Graphics:
    """Graphic elements of one page, and the horizontal rules among them (table lines)."""

    elements: list[Element] = field(default_factory=list)
    rules: list[Rect] = field(default_factory=list)
    images: list[Rect] = field(default_factory=list)
    n_paths: int = 0  # drawing operations before merging (a hint for figure_type)
    # the page's paths as `get_cdrawings()` gives them (page coordinates, unrotated), kept for the
    # figure-type signals so a figure page's drawings are read once, not twice
    drawings: list[dict] = field(default_factory=list)


def _invisible(d: dict) -> bool:
    def white(c) -> bool:
        return c is None or (len(c) >= 3 and min(c[:3]) > 0.97) or (len(c) == 1 and c[0] > 0.97)

    kind = d.get("type", "")
    if "f" in kind and (d.get("fill_opacity", 1.0) or 0) > 0.02 and not white(d.get("fill")):
        return False
    if "s" in kind and (d.get("stroke_opacity", 1.0) or 0) > 0.02 and not white(d.get("color")):
        return False
    return True


def read_graphics(page: pymupdf.Page, turn: int | None = None) -> Graphics:
    """Images and (clipped, merged) vector drawings of a page; on a page set sideways (`turn`, see
    `layout.PageText.turn`) in its upright frame, as its text rows are."""
    m = turn_matrix(page, turn) if turn else None

    def tr(r) -> Rect:
        return Rect.of(pymupdf.Rect(r) * m) if m is not None else Rect.of(r)

    out = Graphics()
    page_rect = tr((0, 0, page.cropbox.width, page.cropbox.height))  # (drawings come unrotated)
    page_area = page_rect.area
    for info in page.get_image_info():
        r = tr(info["bbox"]).intersection(page_rect)
        if r and 4 < r.area < 0.9 * page_area:
            out.elements.append(Element(r, "image"))
            out.images.append(r)
    stack: list[tuple[int, Rect]] = []
    run: Element | None = None
    run_clip: Rect | None = None
    for d in page.get_cdrawings(extended=True):
        level = d.get("level", 0)
        while stack and stack[-1][0] >= level:
            stack.pop()
        clip = stack[-1][1] if stack else page_rect
        kind = d.get("type")
        if kind == "clip":
            scissor = d.get("scissor")
            inner = tr(scissor).intersection(clip) if scissor else clip
            stack.append((level, inner or Rect(0.0, 0.0, 0.0, 0.0)))
            continue
        if kind == "group":
            stack.append((level, clip))
            continue
        out.drawings.append(d)
        rect = d.get("rect")
        if rect is None or _invisible(d):
            continue
        out.n_paths += 1
        w = float(d.get("width") or 0) / 2 if "s" in (kind or "") else 0.0
        r = tr((rect[0] - w, rect[1] - w, rect[2] + w, rect[3] + w)).intersection(clip)
        if r is None or r.area > 0.5 * page_area:
            continue
        if r[3] - r[1] < 2.0 and r[2] - r[0] > 30:
            out.rules.append(r)
        elif r[2] - r[0] > 30 and "s" in (kind or ""):
            out.rules.extend(
                _horizontal_segments(d.get("items") or (), w, clip, m)
            )  # rules drawn as one path
        if run is not None and run.rect and run_clip == clip and run.rect.near(r, 3.0):
            run.rect = run.rect.union(r)
        else:
            if run is not None:
                out.elements.append(run)
            run, run_clip = Element(r, "path"), clip
        items = d.get("items") or ()
        if r[2] - r[0] <= 8 and r[3] - r[1] <= 8:
            run.marks += 1
        elif "f" in (kind or "") and items and all(it[0] == "re" for it in items):
            run.rects += len(items)
        else:
            run.strokes += 1
    if run is not None:
        out.elements.append(run)
    return out


def _horizontal_segments(items, w: float, clip: Rect, m: pymupdf.Matrix | None = None) -> list[Rect]:
    """The long horizontal line segments of a path (several table rules stroked as one path)."""
    out = []
    for it in items:
        if it[0] == "l" and m is not None:
            it = ("l", pymupdf.Point(it[1]) * m, pymupdf.Point(it[2]) * m)
        if it[0] == "l" and abs(it[1][1] - it[2][1]) < 0.5 and abs(it[2][0] - it[1][0]) > 30:
            x0, x1 = sorted((it[1][0], it[2][0]))
            r = Rect.of((x0 - w, it[1][1] - w, x1 + w, it[1][1] + w)).intersection(clip)
            if r is not None:
                out.append(r)
    return out


@dataclass
class Proposal:
    direction: str
    elements: list[Element]

    @property
    def rect(self) -> Rect | None:
        if not self.elements:
            return None
        return union_all(e.rect for e in self.elements)

    @property
    def area(self) -> float:
        r = self.rect
        return Rect.of(r).area if r else 0.0


def _inside_share(r: Rect, zone: Rect) -> float:
    inter = Rect.of(r).intersection(zone)
    if inter is None:
        return 0.0
    a = Rect.of(r).area
    if a < 1.0:  # a line: compare lengths
        length = max(r[2] - r[0], r[3] - r[1])
        ilen = max(inter[2] - inter[0], inter[3] - inter[1])
        return ilen / length if length > 0 else 1.0
    return inter.area / a


def _h_overlap(row: Row, x0: float, x1: float) -> float:
    return max(0.0, min(row.x1, x1) - max(row.x0, x0))


class PageRegions:
    """Region finding for the captions of one page."""

    def __init__(self, page: PageText, captions: list[Caption], stats: DocStats, graphics: Graphics):
        self.page, self.captions, self.stats = page, captions, stats
        # rules and logos of the running head/foot: level with or beyond its text rows
        heads = [r for r in page.rows if r.role == "header"]
        top_heads = [r for r in heads if r.y1 < EDGE_ZONE * page.height]
        foot_heads = [r for r in heads if r.y0 > (1 - EDGE_ZONE) * page.height]
        head_y1 = max((r.y1 for r in top_heads), default=-1e9)
        foot_y0 = min((r.y0 for r in foot_heads), default=1e9)
        top, bottom = head_y1 + 0.5 * stats.line_height, foot_y0 - 0.5 * stats.line_height
        # A rule set just under the running head (or over the foot) and spanning its text is part of
        # it (journal styles such as PLOS): it must not pull a float up to the page top. A table's top
        # rule under a page number does not span the number, so it stays with its table.

        def spans(rule: Rect, rows: list) -> bool:
            return (
                bool(rows)
                and rule[0] <= min(r.x0 for r in rows) + 2
                and rule[2] >= max(r.x1 for r in rows) - 2
            )

        for rule in graphics.rules:
            if spans(rule, top_heads) and head_y1 < rule[1] <= head_y1 + stats.line_height:
                top = max(top, rule[3] + 0.5)
            if spans(rule, foot_heads) and foot_y0 - stats.line_height <= rule[3] < foot_y0:
                bottom = min(bottom, rule[1] - 0.5)
        keep = [e for e in graphics.elements if e.rect[3] > top and e.rect[1] < bottom]
        flat = [r for r in page.rows if r.horizontal and r.role != "header"]
        if page.turn is not None and flat:
            # a page set sideways keeps the journal's upright running head and its rules in the margin
            # beyond all of its horizontal text (see `layout._mark_upright_furniture`)
            left, right = min(r.x0 for r in flat), max(r.x1 for r in flat)
            keep = [e for e in keep if left - 1 < e.rect[2] and e.rect[0] < right + 1]
        # a frame drawn around a float and its caption together (or a shaded caption box) is layout,
        # not the float: the float is what the frame holds besides the caption
        first_rows = [cap.rows[0].rect for cap in captions]
        keep = [e for e in keep if not (e.kind == "path" and any(e.rect.contains(r) for r in first_rows))]
        rules = [r for r in graphics.rules if r[3] > top and r[1] < bottom]
        self.graphics = Graphics(keep, rules, graphics.images, graphics.n_paths)
        graphics = self.graphics
        own = {id(r) for c in captions for r in c.rows}
        # a bold "heading" or an "equation" drawn over a graphic is a label of the figure, not text flow
        drawn_over = {id(r) for r in page.rows if r.role in ("heading", "equation") and self._on_graphic(r)}
        self.blockers = [
            r
            for r in page.rows
            if r.horizontal
            and id(r) not in drawn_over
            and (
                r.role in ("body", "header", "heading", "equation") or (r.role == "caption" and id(r) in own)
            )
        ]
        self.elements = list(graphics.elements) + [
            Element(r.rect, "text", r)
            for r in page.rows
            if (r.role == "other" or id(r) in drawn_over) and r.text.strip()
        ]
        self.max_gap = max(3.0 * stats.line_height, 30.0)
        self._proposals: dict[int, dict[str, Proposal]] = {}
        self.first_gap = max(5.0 * stats.line_height, 50.0)

    def _on_graphic(self, row: Row) -> bool:
        cx, cy = (row.x0 + row.x1) / 2, (row.y0 + row.y1) / 2
        return any(
            e.rect[0] <= cx <= e.rect[2]
            and e.rect[1] <= cy <= e.rect[3]
            and e.rect.area > 4 * max(row.rect.area, 1.0)
            for e in self.graphics.elements
        )

    # -- zones ------------------------------------------------------------------------------
    def band(self, c: Caption) -> tuple[float, float]:
        x0, y0, x1, y1 = c.bbox
        col = self.stats.column_of(x0, x1)
        lo, hi = col if col else (min(self.stats.text_x0, x0), max(self.stats.text_x1, x1))
        lo, hi = lo - BAND_PAD, hi + BAND_PAD
        # a caption in the page margin (beside the text area) labels a float in that margin
        if (x0 + x1) / 2 < self.stats.text_x0:
            lo, hi = min(x0, self.stats.text_x0) - BAND_PAD, self.stats.text_x0 - 1
        elif (x0 + x1) / 2 > self.stats.text_x1:
            lo, hi = self.stats.text_x1 + 1, max(x1, self.stats.text_x1) + BAND_PAD
        for other in self.captions:
            if other is c:
                continue
            ox0, oy0, ox1, oy1 = other.bbox
            if abs(oy0 - y0) > 3 * self.stats.line_height and not (oy0 < y1 and y0 < oy1):
                continue
            if ox0 >= x1 - 1:
                hi = min(hi, (x1 + ox0) / 2)
            elif ox1 <= x0 + 1:
                lo = max(lo, (ox1 + x0) / 2)
        return lo, hi

    def _blocked(self, row: Row, c: Caption, lo: float, hi: float) -> bool:
        if any(row is r for r in c.rows):
            return False
        ov = _h_overlap(row, lo, hi)
        return ov > 0.25 * max(row.width, 1) or ov > 0.5 * (hi - lo)

    def vertical_zone(self, c: Caption, direction: str, lo: float, hi: float) -> Rect:
        _, y0, _, y1 = c.bbox
        if direction == "up":
            top = 0.0
            for r in self.blockers:
                if r.y1 <= y0 + 1 and self._blocked(r, c, lo, hi):
                    top = max(top, r.y1)
            return (lo, top, hi, y0)
        bottom = self.page.height
        for r in self.blockers:
            if r.y0 >= y1 - 1 and self._blocked(r, c, lo, hi):
                bottom = min(bottom, r.y0)
        return (lo, y1, hi, bottom)

    def side_zone(self, c: Caption, direction: str) -> Rect | None:
        x0, y0, x1, y1 = c.bbox
        if direction == "left":
            lo, hi = self.stats.text_x0 - BAND_PAD, x0 - 1
        else:
            lo, hi = x1 + 1, self.stats.text_x1 + BAND_PAD
        for other in self.captions:  # a caption level with this one bounds the side zone
            ox0, oy0, ox1, oy1 = other.bbox
            if other is c or (abs(oy0 - y0) > 3 * self.stats.line_height and not (oy0 < y1 and y0 < oy1)):
                continue
            if direction == "left" and ox1 <= x0 + 1:
                lo = max(lo, ox1)
            elif direction == "right" and ox0 >= x1 - 1:
                hi = min(hi, ox0)
        if hi - lo < 40:
            return None
        top, bottom = 0.0, self.page.height
        for r in self.blockers:
            if any(r is cr for cr in c.rows) or _h_overlap(r, lo, hi) <= 0.25 * max(r.width, 1):
                continue
            if r.y1 <= y0 + 1:
                top = max(top, r.y1)
            elif r.y0 >= y0:
                bottom = min(bottom, r.y0)
        return (lo, top, hi, bottom)

    # -- contents ---------------------------------------------------------------------------
    def contents(self, zone: Rect, c: Caption, direction: str) -> list[Element]:
        # elements mostly inside the zone; a big element only partly inside (a full-width figure over
        # a caption set in one column) when the rest of it does not cover body text
        inside = []
        one_column = len(self.stats.columns) > 1 and zone[2] - zone[0] < 0.62 * (
            self.stats.text_x1 - self.stats.text_x0
        )
        gutter = (self.stats.columns[0][1], self.stats.columns[1][0]) if len(self.stats.columns) > 1 else None
        for e in self.elements:
            share = _inside_share(e.rect, zone)
            if _overlaps_rows(e, c) or share < 0.2:
                continue
            if (
                one_column
                and gutter
                and e.kind == "text"
                and e.rect[0] < gutter[0] - 5
                and e.rect[2] > gutter[1] + 5
            ):
                continue  # a row of text across the gutter belongs to no one-column float
            # (a listing or an algorithm box is text in its column: no drawing reaching in from beside it)
            partial_ok = e.kind != "text" and series(c) not in ("listing", "algorithm")
            if share >= 0.5 or (partial_ok and self._free(e.rect, c)):
                inside.append(e)
        if not inside:
            return []
        _, y0, _, y1 = c.bbox
        if direction in ("left", "right"):
            # a side float sits level with its caption: start from the elements beside the caption's
            # rows, then take in elements above/below them without a wide vertical gap
            picked = [e for e in inside if e.rect[1] < y1 and e.rect[3] > y0]
            if not picked:
                return []
            top, bottom = min(e.rect[1] for e in picked), max(e.rect[3] for e in picked)
            rest = [e for e in inside if not (e.rect[1] < y1 and e.rect[3] > y0)]
            grew = True
            while grew:
                grew = False
                for e in list(rest):
                    if e.rect[3] >= top - self.max_gap and e.rect[1] <= bottom + self.max_gap:
                        picked.append(e)
                        rest.remove(e)
                        top, bottom = min(top, e.rect[1]), max(bottom, e.rect[3])
                        grew = True
            return picked
        # grow from the caption outward; stop at a wide empty gap
        # (the space between a float and its caption can be wider than gaps inside the float)
        if direction == "up":
            inside.sort(key=lambda e: -e.rect[3])
            edge, picked = y0, []
            for e in inside:
                if edge - e.rect[3] > (self.max_gap if picked else self.first_gap):
                    break
                if picked and e.rect[3] < min(p.rect[1] for p in picked) and self._beside_side_caption(e, c):
                    break  # past a gap, level with a caption set beside its float: that caption's float
                picked.append(e)
                edge = min(edge, e.rect[1])
        else:
            inside.sort(key=lambda e: e.rect[1])
            edge, picked = y1, []
            for e in inside:
                if e.rect[1] - edge > (self.max_gap if picked else self.first_gap):
                    break
                picked.append(e)
                edge = max(edge, e.rect[3])
        return picked

    def _beside_side_caption(self, e: Element, c: Caption) -> bool:
        """The element lies level with another caption, beside it, and that caption is narrow (a side
        caption: a caption column next to its figure)."""
        for o in self.captions:
            if o is c:
                continue
            ox0, oy0, ox1, oy1 = o.bbox
            lo, hi = self.band(o)
            if ox1 - ox0 > 0.8 * (hi - lo):
                continue
            level = min(e.rect[3], oy1) - max(e.rect[1], oy0) > 0.5 * min(oy1 - oy0, e.rect[3] - e.rect[1])
            if level and (e.rect[2] <= ox0 + 1 or e.rect[0] >= ox1 - 1):
                return True
        return False

    def proposals(self, c: Caption) -> dict[str, Proposal]:
        if id(c) not in self._proposals:
            self._proposals[id(c)] = self._propose(c)
        return self._proposals[id(c)]

    def _propose(self, c: Caption) -> dict[str, Proposal]:
        lo, hi = self.band(c)
        out = {}
        for direction in ("up", "down"):
            zone = self.vertical_zone(c, direction, lo, hi)
            out[direction] = self._widened(
                c, direction, Proposal(direction, self.contents(zone, c, direction))
            )
        x0, _, x1, _ = c.bbox
        if not out["up"].elements and not out["down"].elements and x1 - x0 < 0.75 * (hi - lo):
            # a float wrapped by body text (wrapfigure): only the caption's own width is free
            pad = 0.1 * (x1 - x0) + BAND_PAD
            for direction in ("up", "down"):
                zone = self.vertical_zone(c, direction, x0 - pad, x1 + pad)
                out[direction] = Proposal(direction, self.contents(zone, c, direction))
        for direction in ("left", "right"):
            zone = self.side_zone(c, direction)
            out[direction] = Proposal(direction, self.contents(zone, c, direction) if zone else [])
        return out

    def _widened(self, c: Caption, direction: str, p: Proposal) -> Proposal:
        """A short caption set in one column under a float that spans the columns: take the whole
        text width when that holds the float without body text or another caption beside it."""
        if p.rect is None or len(self.stats.columns) < 2 or self.stats.column_of(*c.bbox[::2]) is None:
            return p
        lo, hi = self.stats.text_x0 - BAND_PAD, self.stats.text_x1 + BAND_PAD
        zone = self.vertical_zone(c, direction, lo, hi)
        r = p.rect
        if zone[1] > r[1] + 2 or zone[3] < r[3] - 2:
            return p  # body text beside the float in the other column cuts the wide zone short
        check = (lo, zone[1] + 1, hi, zone[3] - 1 + (2 * self.stats.line_height if direction == "up" else 0))
        if direction == "down":
            check = (lo, zone[1] + 1 - 2 * self.stats.line_height, hi, zone[3] - 1)
        for other in self.captions:
            if other is not c and other.bbox.intersection(check) is not None:
                return p
        # beside the caption itself the other column must be empty: a float there that goes on past
        # the caption's level is a float of its own
        x0, y0, x1, y1 = c.bbox
        level = (lo, y0, hi, y1)
        for e in self.elements:
            if (e.row is None or all(e.row is not r for r in c.rows)) and e.rect.intersection(
                level
            ) is not None:
                if e.rect[0] >= x1 - 1 or e.rect[2] <= x0 + 1:
                    return p
        wide = Proposal(direction, self.contents(zone, c, direction))
        wr = wide.rect
        if wr is None or not Rect.of(wr).grown(1).contains(r):
            return p
        # wider, or (rules of a full-width table already as wide) taller: the rows across the gutter
        if (wr[2] - wr[0]) < 1.2 * (r[2] - r[0]) and (wr[3] - wr[1]) < 1.2 * (r[3] - r[1]):
            return p
        return wide

    # -- choice -----------------------------------------------------------------------------
    def side_votes(self) -> list[tuple[str, str]]:
        """(kind, side) for each caption whose float can only be on one side (above or below): the
        evidence for where this document puts its captions (see `preferred_sides`)."""
        votes = []
        for c in self.captions:
            props = self._plausible(c, None)
            up, down = _substantial(props["up"]), _substantial(props["down"])
            if up != down:
                votes.append((series(c), "up" if up else "down"))
        return votes

    def _plausible(self, c: Caption, prefer: dict[str, str] | None) -> dict[str, Proposal]:
        """The proposals of a caption, less one that cannot be its float: lines of prose below a figure
        caption (the caption's own description, or text flow the body style missed), unless the
        document sets its figures below their captions."""
        props = self.proposals(c)
        if series(c) == "figure" and (prefer or {}).get("figure") != "down" and _prose_only(props["down"]):
            props = dict(props, down=Proposal("down", []))
        return props

    def choose(self, prefer: dict[str, str] | None = None) -> dict[int, Proposal]:
        chosen: dict[int, Proposal] = {}
        alternative: dict[int, Proposal] = {}
        sides: dict[int, Proposal] = {}
        for c in self.captions:
            props = self._plausible(c, prefer)
            # figures sit above their captions, tables below, unless the document shows otherwise
            # (algorithm boxes are captioned over their code, as tables are)
            prior = (prefer or {}).get(series(c)) or ("down" if series(c) in ("table", "algorithm") else "up")
            other = "up" if prior == "down" else "down"
            if not _substantial(props[prior]) and _substantial(props[other]):
                prior, other = (
                    other,
                    prior,
                )  # a lone rule or one line of text on the preferred side is no float
            if _substantial(props[prior]):
                chosen[id(c)] = props[prior]
                alternative[id(c)] = props[other] if _substantial(props[other]) else Proposal(other, [])
            else:
                chosen[id(c)], alternative[id(c)] = Proposal(prior, []), Proposal(other, [])
            lo, hi = self.band(c)
            if c.bbox[2] - c.bbox[0] <= 0.8 * (hi - lo):  # only a narrow caption can sit beside its float
                sides[id(c)] = max((props["left"], props["right"]), key=lambda p: p.area)
        # a side proposal wins when it is clearly bigger and no other caption claims its elements above/below
        claimed = {id(e): cid for cid, p in chosen.items() for e in p.elements}
        for cid, side in sides.items():
            side = Proposal(side.direction, [e for e in side.elements if claimed.get(id(e), cid) == cid])
            if _substantial(side) and side.area > 1.5 * chosen[cid].area:
                chosen[cid] = side
        # a caption with nothing on its other side whose float is claimed by another caption may be a side
        # caption of a float beside it (a caption column beside a figure, Springer and Nature styles): its
        # side proposal, less what other captions claim, is its alternative
        for c in self.captions:
            if alternative[id(c)].elements or not chosen[id(c)].elements:
                continue
            props = self.proposals(c)
            taken = {id(e) for cid, p in chosen.items() if cid != id(c) for e in p.elements}
            for side in sorted((props["left"], props["right"]), key=lambda p: -p.area):
                free = Proposal(side.direction, [e for e in side.elements if id(e) not in taken])
                if _substantial(free):
                    alternative[id(c)] = free
                    break
        self._switch_conflicts(chosen, alternative)
        self._split_shared(chosen)
        return chosen

    def _switch_conflicts(self, chosen: dict[int, Proposal], alternative: dict[int, Proposal]) -> None:
        """Two captions claiming the same elements: one of them may have its float on its other side
        (a table captioned below, stacked over a figure captioned below)."""
        for a_id in list(chosen):
            for b_id in list(chosen):
                if a_id == b_id:
                    continue
                mine = {id(e) for e in chosen[a_id].elements}
                if not mine & {id(e) for e in chosen[b_id].elements}:
                    continue
                alt = alternative[a_id]
                if not alt.elements or chosen[a_id].direction == alt.direction:
                    continue
                others = {id(e) for cid, p in chosen.items() if cid != a_id for e in p.elements}
                if not others & {id(e) for e in alt.elements} and chosen[b_id].direction in ("up", "down"):
                    chosen[a_id], alternative[a_id] = alt, chosen[a_id]

    def _split_shared(self, chosen: dict[int, Proposal]) -> None:
        """Two captions still claiming the same elements: cut at the widest vertical gap between them."""
        caps = sorted(self.captions, key=lambda c: c.bbox[1])
        slack = self.stats.line_height
        for i, upper in enumerate(caps):
            for lower in caps[i + 1 :]:
                a, b = chosen[id(upper)], chosen[id(lower)]
                shared = {id(e) for e in a.elements} & {id(e) for e in b.elements}
                if not shared:
                    continue
                pool = sorted({id(e): e for e in a.elements + b.elements}.values(), key=lambda e: e.rect[1])
                lo, hi = upper.bbox[3] - slack, lower.bbox[1] + slack
                best_gap, cut = 0.0, (upper.bbox[3] + lower.bbox[1]) / 2
                reach = None
                for e in pool:
                    if reach is not None and e.rect[1] > reach and lo <= (reach + e.rect[1]) / 2 <= hi:
                        if e.rect[1] - reach > best_gap:
                            best_gap, cut = e.rect[1] - reach, (reach + e.rect[1]) / 2
                    reach = e.rect[3] if reach is None else max(reach, e.rect[3])
                centre = lambda e: (e.rect[1] + e.rect[3]) / 2
                a.elements = [e for e in a.elements if id(e) not in shared or centre(e) < cut]
                b.elements = [e for e in b.elements if id(e) not in shared or centre(e) >= cut]

    def regions(self, prefer: dict[str, str] | None = None) -> dict[int, Rect | None]:
        chosen = self.choose(prefer)
        owned = {id(e): cid for cid, p in chosen.items() for e in p.elements}
        out: dict[int, Rect | None] = {}
        for c in self.captions:
            p = chosen[id(c)]
            if series(c) == "figure":
                p = Proposal(p.direction, _without_edge_rules(p.elements))
            # a rule right over (or under) another caption opens (or closes) that caption's box
            others = [o.bbox for o in self.captions if o is not c]
            p = Proposal(
                p.direction,
                [
                    e
                    for e in p.elements
                    if not (_is_rule(e) and any(_rule_of(e, o, self.stats) for o in others))
                ],
            )
            rect = p.rect
            if series(c) in ("table", "algorithm", "listing") and p.direction in ("up", "down"):
                rect = self._with_ruled_block(c, p.direction, rect)
            if series(c) == "algorithm" and p.direction in ("up", "down") and rect is not None:
                rect = self._closed_by_rules(c, p.direction, rect)
            if rect is None:
                p = self._adjacent_box(c, owned)
                rect = p.rect
            if rect is None:
                out[id(c)] = None
                continue
            # grow: elements touching the region that no other float owns (labels outside the band)
            for _ in range(3):
                grown = rect
                for e in self.elements:
                    if owned.get(id(e), id(c)) != id(c) or _overlaps_rows(e, c):
                        continue
                    if (
                        e.rect.near(rect, 1.5)
                        and not Rect.of(rect).contains(e.rect)
                        and self._free(e.rect, c)
                    ):
                        # labels and legends stick out a little; a row of text twice as wide does not
                        u = Rect.of(rect).union(e.rect)
                        w, h = rect[2] - rect[0], rect[3] - rect[1]
                        if (u[2] - u[0]) - w <= max(20.0, 0.15 * w) and (u[3] - u[1]) - h <= max(
                            20.0, 0.15 * h
                        ):
                            grown = Rect.of(grown).union(e.rect)
                if grown == rect:
                    break
                rect = grown
            if c.kind == "table":
                rect = self._without_notes(rect)
            out[id(c)] = _clear_of_caption(rect, c, p.direction)
        return out

    def _without_notes(self, rect: Rect) -> Rect:
        """A ruled table ends at its bottom rule: the notes set below it (`a` Values are ..., sources,
        abbreviations) are no part of the float's picture. Taken only for a table of at least
        `RULES_FOR_NOTES` rules across it (top, header and bottom rules) with nothing but text below the
        last one, so a table ruled only under its head keeps its rows."""
        rect = Rect.of(rect)
        inside = sorted(
            (Rect.of(r) for r in self.graphics.rules if r[1] >= rect.y0 - 1 and r[3] <= rect.y1 + 1),
            key=lambda r: r.y0,
        )
        level: list[Rect] = []  # rules at one height joined (a head rule drawn in pieces, one per column)
        for r in inside:
            if level and r.y0 - level[-1].y0 < 1.0:
                level[-1] = level[-1].union(r)
            else:
                level.append(r)
        across = [r for r in level if r.width >= RULE_ACROSS * rect.width]
        if len(across) < RULES_FOR_NOTES:
            return rect
        last = across[-1]
        if rect.y1 - last.y1 < 0.5 * self.stats.line_height:
            return rect
        below = Rect(rect.x0, last.y1 + 0.5, rect.x1, rect.y1)
        for e in self.elements:
            if e.kind != "text" and below.intersection(e.rect) is not None and e.rect.y1 > last.y1 + 1:
                return rect  # a drawing below the last rule: the table goes on
        return Rect(rect.x0, rect.y0, rect.x1, last.y1)

    def _adjacent_box(self, c: Caption, owned: dict[int, int]) -> Proposal:
        """No float found: a framed or shaded box right above (or below) the caption is the float, even
        when the text inside it looks like body text (a boxed example set in the body font)."""
        x0, y0, x1, y1 = c.bbox
        best, best_gap = None, 2 * self.stats.line_height
        for e in self.graphics.elements:
            r = e.rect
            if e.kind == "text" or id(e) in owned or r[3] - r[1] < 30:
                continue
            if min(r[2], x1) - max(r[0], x0) < 0.5 * (x1 - x0):
                continue
            gap = y0 - r[3] if r[3] <= y0 + 2 else r[1] - y1 if r[1] >= y1 - 2 else None
            if gap is not None and gap < best_gap:
                best, best_gap = e, gap
        if best is None:
            return Proposal("up", [])
        return Proposal("up" if best.rect[3] <= y0 + 2 else "down", [best])

    # -- ruled tables -----------------------------------------------------------------------
    def _with_ruled_block(self, c: Caption, direction: str, rect: Rect | None) -> Rect | None:
        """A ruled table next to its caption spans from the rule at the caption to the farthest rule of
        the same width: its rows may look like body text (wide rows in the body font), which would
        otherwise cut the region short. Without any region, a ruled block on either side is taken."""
        sides = [direction] if rect is not None else [direction, "up" if direction == "down" else "down"]
        for side in sides:
            block = self._ruled_block(c, side)
            if block is None:
                continue
            if rect is None:
                return block
            if Rect.of(rect).near(block, self.stats.line_height):
                return Rect.of(rect).union(block)
        return rect

    def _closed_by_rules(self, c: Caption, direction: str, rect: Rect) -> Rect:
        """An algorithm box set between rules (the rule at its caption and the rule that closes the
        code) ends at the closing rule: the text after it is the page's prose, which in a column of
        the same width can sit as close below the box as its own lines do."""
        block = self._ruled_block(c, direction)
        if block is None:
            return rect
        r = Rect.of(rect)
        if direction == "down" and r.y1 > block[3]:
            return Rect(r.x0, r.y0, r.x1, block[3])
        if direction == "up" and r.y0 < block[1]:
            return Rect(r.x0, block[1], r.x1, r.y1)
        return rect

    def _ruled_block(self, c: Caption, direction: str) -> Rect | None:
        x0, y0, x1, y1 = c.bbox
        reach = 2 * self.stats.line_height

        def across_caption(r: Rect) -> bool:
            overlap = min(r[2], x1) - max(r[0], x0)
            return overlap >= 0.5 * min(x1 - x0, r[2] - r[0])

        if direction == "down":
            near = [r for r in self.graphics.rules if y1 - 2 <= r[1] <= y1 + reach and across_caption(r)]
            first = min(near, key=lambda r: r[1], default=None)
        else:
            near = [r for r in self.graphics.rules if y0 - reach <= r[3] <= y0 + 2 and across_caption(r)]
            first = max(near, key=lambda r: r[3], default=None)
        if first is None:
            return None
        same = [r for r in self.graphics.rules if abs(r[0] - first[0]) <= 3 and abs(r[2] - first[2]) <= 3]
        if direction == "down":
            chain = sorted((r for r in same if r[1] > first[3]), key=lambda r: r[1])
        else:
            chain = sorted((r for r in same if r[3] < first[1]), key=lambda r: -r[3])
        last = first
        for r in chain:
            top, bottom = (last[3], r[1]) if direction == "down" else (r[3], last[1])
            if not self._table_inside(c, (first[0], top, first[2], bottom)):
                break
            last = r
        if last is first:
            return None
        return (
            min(first[0], last[0]),
            min(first[1], last[1]),
            max(first[2], last[2]),
            max(first[3], last[3]),
        )

    def _table_inside(self, c: Caption, zone: Rect) -> bool:
        """The rows between two rules can be table rows: no other caption, heading or running head, no
        run of justified prose lines spanning the column, and some text unless the rules are close (a
        double rule); an empty stretch up to a rule is no part of the table (the rule under a page head)."""
        prose = rows = 0
        for r in sorted(self.page.rows, key=lambda r: r.y0):
            if not r.horizontal or any(r is cr for cr in c.rows):
                continue
            cy = (r.y0 + r.y1) / 2
            if not (zone[1] < cy < zone[3]) or _h_overlap(r, zone[0], zone[2]) <= 0:
                continue
            if r.role in ("caption", "heading", "header"):
                return False
            col = self.stats.column_of(r.x0, r.x1) or (self.stats.text_x0, self.stats.text_x1)
            gaps = [b.bbox[0] - a.bbox[2] for a, b in zip(r.spans, r.spans[1:])]
            justified = (
                r.role == "body"
                and abs(r.x1 - col[1]) <= 2
                and r.x0 <= col[0] + 2.5 * r.size
                and max(gaps, default=0.0) <= 1.5 * r.size
            )
            prose = prose + 1 if justified else 0
            if prose >= 2:
                return False
            rows += 1
        return rows > 0 or zone[3] - zone[1] <= 0.8 * self.stats.line_height

    def _free(self, r: Rect, c: Caption) -> bool:
        """Growing into `r` must not swallow body text or another caption."""
        for b in self.blockers:
            if any(b is cr for cr in c.rows):
                continue
            inter = Rect.of(r).intersection(b.rect)
            if inter and Rect.of(inter).area > 0.3 * Rect.of(b.rect).area:
                return False
        return True


def _is_rule(e: Element) -> bool:
    return e.kind == "path" and e.rect.height < RULE_HEIGHT


def _without_edge_rules(elements: list[Element]) -> list[Element]:
    """A figure's elements without the rules a layout sets right above or below each figure (a column-wide
    line apart from the picture by `EDGE_RULE_GAP` or more): they are layout, not the figure. A rule with
    the picture touching it (an axis) stays, and so do rules that are all there is."""
    rest = [e for e in elements if not _is_rule(e)]
    if not rest:
        return elements
    body = union_all(e.rect for e in rest)
    out = []
    for e in elements:
        if _is_rule(e) and e.rect.width >= RULE_ACROSS * body.width:
            if e.rect.y1 <= body.y0 - EDGE_RULE_GAP or e.rect.y0 >= body.y1 + EDGE_RULE_GAP:
                continue
        out.append(e)
    return out


def _rule_of(e: Element, cap: Rect, stats: DocStats) -> bool:
    """The rule sits right over or under the caption box, across it (an algorithm box's top rule)."""
    gap = max(cap[1] - e.rect.y1, e.rect.y0 - cap[3])
    across = min(e.rect.x1, cap[2]) - max(e.rect.x0, cap[0]) > 0.5 * (cap[2] - cap[0])
    return across and -1 <= gap <= 0.5 * stats.line_height


def _substantial(p: Proposal) -> bool:
    """Holds a graphic with some extent or several rows of text: not only thin rules, and not one line of
    text (a stray line of body text, a footnote or a page number is no table or figure)."""
    rows = sum(1 for e in p.elements if e.kind == "text")
    return rows >= 2 or any(
        e.kind != "text" and e.rect[2] - e.rect[0] >= 3 and e.rect[3] - e.rect[1] >= 3 for e in p.elements
    )


def _prose_only(p: Proposal) -> bool:
    """Only rows of running text: no graphic, and most rows are sentences (six or more words, nearly all
    of them words, without the wide gaps of table cells)."""
    if any(e.kind != "text" for e in p.elements) or not p.elements:
        return False
    prose = 0
    for e in p.elements:
        tokens = e.row.text.split()
        words = re.findall(r"[A-Za-z]{2,}", e.row.text)
        if len(words) >= 6 and len(words) >= 0.7 * len(tokens) and e.row.max_gap <= e.row.size:
            prose += 1
    return prose >= 0.6 * len(p.elements)


def _overlaps_rows(e: Element, c: Caption) -> bool:
    return e.row is not None and any(e.row is r for r in c.rows)


def _label_pattern(kind: str, number: str) -> re.Pattern:
    word = (
        r"(?:fig(?:ure)?s?\.?|supplementary\s+fig(?:ure)?\.?)" if kind == "figure" else r"(?:tab(?:le)?\.?)"
    )
    return re.compile(rf"(?i)(?:^|\s){word}\s*{re.escape(number)}(?![\w.]\w)\.?(?:\s|$)")


def float_page_region(page: PageText, graphics: Graphics, kind: str, number: str) -> Rect | None:
    """The float of a caption printed elsewhere (manuscripts put legends on one page and each figure on a
    page of its own, marked only with its label): on a page without body text, whose short row names
    the float ("Figure 4", "Fig. 1."), the float is all the page's graphics and text but that label,
    the running head and the line numbers."""
    if any(r.role in ("body", "caption") for r in page.rows):
        return None
    pattern = _label_pattern(kind, number)
    # (labels at the same place on several such pages look like running heads: they count too)
    labels = [
        r
        for r in page.rows
        if r.role != "linenumber" and len(r.text.split()) <= 4 and pattern.search(" " + r.text + " ")
    ]
    if not labels:
        return None
    heads = [r for r in page.rows if r.role == "header" and all(r is not lab for lab in labels)]
    top = max((r.y1 for r in heads if r.y1 < EDGE_ZONE * page.height), default=-1e9)
    bottom = min((r.y0 for r in heads if r.y0 > (1 - EDGE_ZONE) * page.height), default=1e9)
    parts = [e.rect for e in graphics.elements if e.rect[3] > top and e.rect[1] < bottom]
    parts += [
        r.rect
        for r in page.rows
        if r.role in ("other", "heading", "equation")
        and r.text.strip()
        and all(r is not lab for lab in labels)
    ]
    if not parts:
        return None
    rect = parts[0]
    for r in parts[1:]:
        rect = Rect.of(rect).union(r)
    for lab in labels:  # the label stays out when it sits above or below the float
        rect = _clear_of_caption(
            rect,
            Caption(kind, number, page.number, [lab], "", "", 0.0),
            "down" if lab.y1 <= rect[1] + 2 else "up" if lab.y0 >= rect[3] - 2 else "",
        )
    return rect


def _clear_of_caption(rect: Rect, c: Caption, direction: str) -> Rect:
    """The region stops at its caption (a raster or a shadowed box drawn a little over the caption), by a
    margin that the 1 pt padding of the rendered crop leaves clear (0.5 pt above a caption, whose glyphs
    can reach its box's top; none below it, where table rules sit close under the caption)."""
    cap = c.bbox
    m = 1.0 if direction == "down" else 1.5
    x0, y0, x1, y1 = rect
    if direction == "up" and y1 > cap[1] - m and cap[1] - m - y0 > 10:
        y1 = cap[1] - m
    elif direction == "down" and y0 < cap[3] + m and y1 - cap[3] - m > 10:
        y0 = cap[3] + m
    elif direction == "left" and x1 > cap[0] - m and cap[0] - m - x0 > 10:
        x1 = cap[0] - m
    elif direction == "right" and x0 < cap[2] + m and x1 - cap[2] - m > 10:
        x0 = cap[2] + m
    return (x0, y0, x1, y1)


def preferred_sides(votes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The side ("up"/"down") where a document puts the floats of a kind relative to their captions, when
    its unambiguous captions agree (>= 3 votes, >= 80%); used where both sides hold content."""
    counts = Counter(votes)
    out = {}
    for kind in {k for k, _ in counts}:
        up, down = counts[(kind, "up")], counts[(kind, "down")]
        for side, n in (("up", up), ("down", down)):
            if n >= 3 and n >= 0.8 * (up + down):
                out[kind] = side
    return out


def _furniture_key(r: Rect) -> tuple[int, ...]:
    return tuple(round(v / FURNITURE_TOLERANCE) for v in r)


def _page_furniture(pages: list[tuple[PageText, list[Caption], Graphics]]) -> set[tuple[int, ...]]:
    """Drawings and images repeated at the same place on several pages near the page's top or bottom:
    logos and rules of the running head or foot (a publisher's logo under the last table of a page)."""
    seen: Counter = Counter()
    for page, _, graphics in pages:
        keys = set()
        for e in graphics.elements:
            if e.rect[3] < EDGE_ZONE * page.height or e.rect[1] > (1 - EDGE_ZONE) * page.height:
                keys.add(_furniture_key(e.rect))
        seen.update(keys)
    return {k for k, n in seen.items() if n >= FURNITURE_PAGES}


def _without(graphics: Graphics, furniture: set[tuple[int, ...]]) -> Graphics:
    if not furniture:
        return graphics
    keep = [e for e in graphics.elements if _furniture_key(e.rect) not in furniture]
    return Graphics(keep, graphics.rules, graphics.images, graphics.n_paths)


def document_regions(
    pages: list[tuple[PageText, list[Caption], Graphics]], stats: DocStats
) -> dict[int, Rect | None]:
    """Regions of all captions of a document (keyed by `id(caption)`), each page choosing with the
    document's preferred caption sides (see `preferred_sides`)."""
    furniture = _page_furniture(pages)
    builders = [
        PageRegions(page, caps, stats, _without(graphics, furniture))
        for page, caps, graphics in pages
        if caps
    ]
    prefer = preferred_sides(v for b in builders for v in b.side_votes())
    out: dict[int, Rect | None] = {}
    for b in builders:
        out.update(b.regions(prefer))
    return out


def page_regions(
    page: PageText,
    captions: list[Caption],
    stats: DocStats,
    graphics: Graphics,
    prefer: dict[str, str] | None = None,
) -> dict[int, Rect | None]:
    """Region per caption (keyed by `id(caption)`) on one page; None where nothing was found."""
    if not captions:
        return {}
    return PageRegions(page, captions, stats, graphics).regions(prefer)
