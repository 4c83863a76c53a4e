"""Text rows of a PDF page and the per-document layout statistics the other steps rely on.

pymupdf's `get_text("dict")` gives blocks > lines > spans. A visual row of text is sometimes split
into several pymupdf lines (a bold label, a math span, a big gap), so lines of one block that share a
baseline are merged into one `Row`. Rows then get a role:

- `header`: running heads, page numbers and footer lines (text repeated near the top/bottom of pages);
- `linenumber`: margin line numbers of review manuscripts (a vertical run of small integers);
- `body`: paragraph text, in the document's body style and spanning most of its column;
- `caption`: set later by captions.py;
- `heading`: section headings (bold, in the body's font family);
- `equation`: display-equation rows (an equation number at the column's right edge);
- `other`: everything else (text inside figures and tables, math, rotated text).

Document statistics (`DocStats`): the body font size and fonts (the most common style by characters),
the text area and the columns found from the body rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pymupdf

from .geometry import HEAD_BAND, PAGE_NUMBER_BAND, Rect

# Ligatures expanded ("ﬁ" -> "fi"), no image payloads (we only need image positions, and
# decoding them into the dict is the slowest part of "dict" extraction).
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|\bbx|cmbx|-b\b|\.b\b", re.IGNORECASE)
_NUMERIC = re.compile(r"^\d{1,4}$")
_DIGITS = re.compile(r"\d+")


@dataclass
class Span:
    text: str
    font: str
    size: float
    bold: bool
    bbox: tuple[float, float, float, float]
    baseline: float = 0.0


@dataclass
class Row:
    """One visual row of text on a page."""

    page: int  # 0-based
    x0: float
    y0: float
    x1: float
    y1: float
    spans: list[Span]
    block: int  # pymupdf block number on the page
    index_in_block: int  # 0 for the first row of its block
    horizontal: bool = True
    role: str = "other"
    baseline: float = 0.0
    text: str = ""
    size: float = 0.0  # dominant font size (by characters)
    font: str = ""  # dominant font
    max_gap: float = 0.0  # widest horizontal gap between neighbouring spans (table-like rows)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def rect(self) -> Rect:
        return Rect(self.x0, self.y0, self.x1, self.y1)


@dataclass
class PageText:
    number: int  # 0-based
    width: float
    height: float
    rows: list[Row]
    image_rects: list[tuple[float, float, float, float]] = field(default_factory=list)
    # A page set sideways (a landscape table: `/Rotate`, or text set at 90 degrees): the page is read in
    # its upright frame, where the text runs left to right; `turn` is the rotation (90 or 270) that
    # takes the page's own coordinates to that frame (`turn_matrix`), None for an upright page.
    turn: int | None = None


# Most of a page's characters on lines set at 90 degrees make it a page set sideways (a landscape table);
# a rotated axis title or a margin stamp is a small share.
TURNED_SHARE = 0.6


def turn_matrix(page: pymupdf.Page, turn: int) -> pymupdf.Matrix:
    """From the page's own (unrotated) coordinates to its frame turned by `turn` degrees clockwise."""
    box = page.cropbox  # unrotated
    if turn == 90:
        return pymupdf.Matrix(0, 1, -1, 0, box.height, 0)
    return pymupdf.Matrix(0, -1, 1, 0, 0, box.width)


def _turn_of(data: dict) -> int | None:
    """90 when most text runs upwards (read after turning the page clockwise), 270 downwards, else None."""
    chars = Counter()
    for block in data.get("blocks", []):
        for line in block.get("lines", []):
            n = sum(len(s.get("text", "").strip()) for s in line.get("spans", []))
            dx, dy = line.get("dir", (1.0, 0.0))
            chars["up" if dy < -0.95 else "down" if dy > 0.95 else "flat"] += n
    total = sum(chars.values())
    if not total:
        return None
    if chars["up"] >= TURNED_SHARE * total:
        return 90
    if chars["down"] >= TURNED_SHARE * total:
        return 270
    return None


def _turned(data: dict, m: pymupdf.Matrix) -> None:
    """Boxes, baselines and directions of the text dict moved into the turned frame (in place)."""
    for block in data.get("blocks", []):
        block["bbox"] = tuple(pymupdf.Rect(block["bbox"]) * m)
        for line in block.get("lines", []):
            line["bbox"] = tuple(pymupdf.Rect(line["bbox"]) * m)
            dx, dy = line.get("dir", (1.0, 0.0))
            line["dir"] = (dx * m.a + dy * m.c, dx * m.b + dy * m.d)
            for s in line.get("spans", []):
                s["bbox"] = tuple(pymupdf.Rect(s["bbox"]) * m)
                if "origin" in s:
                    s["origin"] = tuple(pymupdf.Point(s["origin"]) * m)


@dataclass
class DocStats:
    body_size: float = 10.0
    body_fonts: set[str] = field(default_factory=set)
    text_x0: float = 0.0
    text_x1: float = 612.0
    columns: list[tuple[float, float]] = field(default_factory=list)  # (x0, x1) left to right
    line_height: float = 12.0  # typical baseline distance of body text

    def column_of(self, x0: float, x1: float) -> tuple[float, float] | None:
        """The column holding a box, or None when it spans several columns."""
        width = self.text_x1 - self.text_x0
        if len(self.columns) < 2 or (x1 - x0) > 0.62 * width:
            return None
        for left, right in zip(self.columns, self.columns[1:]):
            mid = (left[1] + right[0]) / 2
            if x0 < mid - 1 and x1 > mid + 1:
                return None  # across the middle of a gutter: a centred full-width line
        cx = (x0 + x1) / 2
        best = min(
            self.columns, key=lambda c: 0 if c[0] <= cx <= c[1] else min(abs(cx - c[0]), abs(cx - c[1]))
        )
        # a box that crosses the gutter by more than a little belongs to no single column
        if x0 < best[0] - 0.15 * (best[1] - best[0]) or x1 > best[1] + 0.15 * (best[1] - best[0]):
            return None
        return best


def clean_text(text: str) -> str:
    """NFKC-normalised text with soft hyphens and control characters removed."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "").replace("\ufffd", "")
    return "".join(ch if ch.isprintable() or ch == " " else " " for ch in text)


def _span(s: dict, horizontal: bool = True) -> Span:
    font = s.get("font", "")
    bold = bool(s.get("flags", 0) & 16) or bool(_BOLD_FONT.search(font))
    size = float(s.get("size", 0.0))
    x0, y0, x1, y1 = s["bbox"]
    if horizontal and size > 0 and y1 - y0 > 2.2 * size and "origin" in s:
        # broken font metrics (ascender/descender of a whole em or more): rebuild from the baseline
        y0, y1 = float(s["origin"][1]) - 0.8 * size, float(s["origin"][1]) + 0.25 * size
    base = float(s.get("origin", (0.0, y1))[1])
    if horizontal and size > 0 and "origin" in s and y0 > base - 0.6 * size:
        # a box cut short above (text under a clip path): its top from the font's ascender
        y0 = min(y0, base - min(max(float(s.get("ascender", 0.8)), 0.7), 1.0) * size)
    return Span(clean_text(s.get("text", "")), font, size, bold, (x0, y0, x1, y1), base)


def _finish(row: Row) -> Row:
    """Fill text, dominant style and gaps from the spans (sorted left to right)."""
    spans = sorted(row.spans, key=lambda s: s.bbox[0]) if row.horizontal else row.spans
    row.spans = spans
    parts: list[str] = []
    prev: Span | None = None
    by_size: Counter = Counter()
    by_font: Counter = Counter()
    max_gap = 0.0
    for s in spans:
        n = len(s.text.strip())
        by_size[round(s.size * 2) / 2] += n
        by_font[s.font] += n
    main_size = by_size.most_common(1)[0][0] if by_size else 0.0

    def script(sp: Span) -> bool:
        # a sub- or superscript: smaller and off the row's baseline (small capitals stay on it)
        return sp.size < 0.85 * main_size and abs(sp.baseline - row.baseline) > 0.12 * main_size

    for s in spans:
        if prev is not None and row.horizontal:
            gap = s.bbox[0] - prev.bbox[2]
            # gaps next to one- or two-character spans are math layout, not table columns
            if len(s.text.strip()) > 2 and len(prev.text.strip()) > 2:
                max_gap = max(max_gap, gap)
            # pymupdf keeps explicit spaces; add one where two separate lines were merged, and around
            # scripts so that "D_max" reads "D max", not "Dmax"
            if (
                (gap > 0.15 * max(s.size, 1) or (script(s) != script(prev) and s.text[:1] not in ",.;:)]"))
                and parts
                and not parts[-1].endswith(" ")
                and not s.text.startswith(" ")
            ):
                parts.append(" ")
        parts.append(s.text)
        if s.text.strip():
            prev = s
    row.text = re.sub(r"\s+", " ", "".join(parts)).strip()
    row.size = by_size.most_common(1)[0][0] if by_size else 0.0
    row.font = by_font.most_common(1)[0][0] if by_font else ""
    row.max_gap = max_gap
    return row


def _attaches(row: Row, bbox: tuple, baseline: float, size: float) -> str | None:
    """How a line relates to a row: "same" baseline, "script" (sub/superscript next to it), or None."""
    if abs(baseline - row.baseline) <= 0.25 * max(row.size, 1):
        return "same"  # (rows joined across a column gutter are split again in `analyse`)
    # a script starts inside the row or right after it; a small number left of the row's start is
    # a margin line number, not a script
    near = row.x0 - 0.2 * row.size <= bbox[0] <= row.x1 + 0.5 * row.size
    if near and size <= 0.85 * row.size and -0.75 * row.size <= baseline - row.baseline <= 0.45 * row.size:
        return "script"
    return None


def _merge_into(row: Row, bbox: tuple, spans: list[Span]) -> None:
    row.x0, row.y0 = min(row.x0, bbox[0]), min(row.y0, bbox[1])
    row.x1, row.y1 = max(row.x1, bbox[2]), max(row.y1, bbox[3])
    row.spans.extend(spans)


def _line_numbers(numeric: list[tuple[float, float, int]]) -> set[int]:
    """Margin line numbers among (right edge, top, value) of numeric lines: a vertical run of >= 8
    sharing their right edge and counting up by one (axis tick labels share an edge, not the count)."""
    groups: dict[int, list[tuple[float, float, int, int]]] = defaultdict(list)
    for i, (x1, y0, value) in enumerate(numeric):
        groups[round(x1 / 3)].append((x1, y0, value, i))
    found: set[int] = set()
    for key in groups:
        near = sorted(groups[key] + groups.get(key - 1, []) + groups.get(key + 1, []), key=lambda t: t[1])
        if len(near) < 8:
            continue
        steps = sum(1 for a, b in zip(near, near[1:]) if b[2] - a[2] == 1)
        if steps >= 0.7 * (len(near) - 1):
            found.update(t[3] for t in groups[key])
    return found


def read_page(page: pymupdf.Page) -> PageText:
    """All text rows of a page and the image placements.

    Lines of one block that share a baseline form one row; sub- and superscripts (smaller, shifted
    baseline, next to a row) join that row, also when pymupdf put them in a block of their own.
    Margin line numbers are found first so that they never join the text rows beside them.
    """
    data = page.get_text("dict", flags=TEXT_FLAGS)
    turn = _turn_of(data)
    if turn is not None:
        _turned(data, turn_matrix(page, turn))
    lines = []
    for bno, block in enumerate(data.get("blocks", [])):
        if block.get("type", 0) != 0:
            continue
        for line in block.get("lines", []):
            raw = [s for s in line.get("spans", []) if s.get("text", "").strip()]
            if not raw:
                continue
            main = max(raw, key=lambda s: len(s["text"].strip()) * s.get("size", 1))
            dx, dy = line.get("dir", (1.0, 0.0))
            baseline = float(main.get("origin", (0, line["bbox"][3]))[1])
            horizontal = abs(dy) < 0.05 and dx > 0
            spans = [sp for sp in (_span(s, horizontal) for s in raw) if sp.text.strip()]
            if not spans:
                continue  # only glyphs without a text mapping (icons)
            bbox = tuple(line["bbox"])
            if horizontal:
                bbox = (
                    min(sp.bbox[0] for sp in spans),
                    min(sp.bbox[1] for sp in spans),
                    max(sp.bbox[2] for sp in spans),
                    max(sp.bbox[3] for sp in spans),
                )
            lines.append((bno, bbox, spans, horizontal, baseline, float(main.get("size", 0))))
    numeric = [
        i for i, t in enumerate(lines) if t[3] and _NUMERIC.match("".join(s.text for s in t[2]).strip())
    ]
    flagged = {
        numeric[j]
        for j in _line_numbers(
            [
                (lines[i][1][2], lines[i][1][1], int("".join(s.text for s in lines[i][2]).strip()))
                for i in numeric
            ]
        )
    }
    rows: list[Row] = []
    by_block: dict[int, list] = defaultdict(list)
    for i, t in enumerate(lines):
        if i in flagged:
            row = Row(page.number, *t[1], spans=list(t[2]), block=t[0], index_in_block=0, role="linenumber")
            row.baseline = t[4]
            rows.append(row)
        else:
            by_block[t[0]].append(t)
    for bno, block_lines in by_block.items():
        merged: list[Row] = []
        for _, bbox, spans, horizontal, baseline, size in sorted(
            block_lines, key=lambda t: (not t[3], -t[5], t[1][1])
        ):
            target = None
            if horizontal:
                for r in merged:
                    if r.horizontal and _attaches(r, bbox, baseline, size):
                        target = r
                        break
            if target is None:
                row = Row(
                    page.number, *bbox, spans=list(spans), block=bno, index_in_block=0, horizontal=horizontal
                )
                row.baseline, row.size = baseline, size
                merged.append(row)
            else:
                _merge_into(target, bbox, spans)
        merged.sort(key=lambda r: (r.y0, r.x0))
        for i, r in enumerate(merged):
            r.index_in_block = i
        rows.extend(merged)
    keep = _merge_across_blocks(rows)
    rect = page.rect
    if turn is not None:
        box = page.cropbox
        return PageText(page.number, box.height, box.width, [_finish(r) for r in keep], turn=turn)
    return PageText(page.number, rect.width, rect.height, [_finish(r) for r in keep])


def _merge_across_blocks(rows: list[Row]) -> list[Row]:
    """Join rows that pymupdf split into separate blocks: the same baseline with a word-sized gap
    (a caption label in its own block), and short sub/superscripts in blocks of their own."""
    singles = Counter(r.block for r in rows)
    buckets: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        if r.horizontal:
            buckets[int(r.baseline // 4)].append(r)
    gone: set[int] = set()
    for r in sorted(rows, key=lambda r: r.x0):
        if not r.horizontal or id(r) in gone or r.role == "linenumber":
            continue
        short = singles[r.block] == 1 and len("".join(s.text for s in r.spans).strip()) <= 8
        reach = int(max(r.size, 1) // 4) + 2
        target = None
        for key in range(int(r.baseline // 4) - reach, int(r.baseline // 4) + reach + 1):
            for big in buckets.get(key, ()):
                if big is r or id(big) in gone or big.block == r.block or big.role == "linenumber":
                    continue
                gap = max(big.x0 - r.x1, r.x0 - big.x1)
                same = abs(big.baseline - r.baseline) <= 0.25 * max(big.size, 1)
                if (
                    same
                    and gap <= 0.6 * max(big.size, r.size, 1)
                    and abs(big.size - r.size) <= 0.3 * big.size
                    or short
                    and big.size > r.size
                    and _attaches(big, r.rect, r.baseline, r.size) == "script"
                ):
                    target = big
                if target is not None:
                    break
            if target is not None:
                break
        if target is not None:
            _merge_into(target, r.rect, r.spans)
            gone.add(id(r))
    return [r for r in rows if id(r) not in gone]


def _mark_headers(pages: list[PageText]) -> None:
    """Running heads/feet: text that repeats at the same height on other pages, near the page top/bottom
    or as the outermost row of its page (wide top margins put heads well inside the page), and bare page
    numbers that are the outermost row of their page: in the band, or a little further in when their
    value counts with the pages."""
    band, number_band = HEAD_BAND, PAGE_NUMBER_BAND  # (see geometry.py)
    extremes: dict[int, tuple[float, float]] = {}
    heights = {p.number: p.height for p in pages}
    for p in pages:
        ys = [(r.y0, r.y1) for r in p.rows]
        if ys:
            extremes[p.number] = (min(y for y, _ in ys), max(y for _, y in ys))
    seen: Counter = Counter()
    keyed: list[tuple[Row, str, bool]] = []
    for p in pages:
        keys_here = set()
        for r in p.rows:
            if r.role != "other":
                continue
            top, bottom = extremes[p.number]
            outermost = r.y0 <= top + 2 or r.y1 >= bottom - 2
            if r.y1 <= band * p.height or r.y0 >= (1 - band) * p.height or outermost:
                # running heads repeat at the same height (panel letters of figures do not)
                key = f"{_DIGITS.sub('#', r.text.lower())}@{round(r.y0 / 3)}"
                keyed.append((r, key, outermost))
                keys_here.add(key)
        seen.update(keys_here)
    repeats = max(2, int(0.25 * len(pages)))
    # page numbers count with the pages: value - page index is the same on most pages (tick labels of a
    # figure at the top of a page are bare numbers too, but not in step with the pages)
    votes = {
        (int(r.text.strip()) - r.page, r.page)
        for r, _, outermost in keyed
        if outermost and r.text.strip().isdigit()
    }
    offsets = Counter(offset for offset, _ in votes)  # one vote per page
    offset, agree = offsets.most_common(1)[0] if offsets else (None, 0)
    for r, key, outermost in keyed:
        text_key = key.rsplit("@", 1)[0]
        bare_number = bool(re.fullmatch(r"(page\s*)?(#|[ivxlc]+)(\s*(/|of)\s*#)?\.?", text_key)) and outermost
        h = heights[r.page]
        in_band = r.y1 <= band * h or r.y0 >= (1 - band) * h
        near_edge = r.y1 <= number_band * h or r.y0 >= (1 - number_band) * h
        counts_pages = agree >= 2 and r.text.strip().isdigit() and int(r.text.strip()) - r.page == offset
        if (seen[key] >= repeats and len(text_key) >= 4) or (
            bare_number and (in_band or near_edge and counts_pages)
        ):
            r.role = "header"


def _body_style(pages: list[PageText]) -> tuple[float, set[str]]:
    sizes: Counter = Counter()
    for p in pages:
        for r in p.rows:
            if r.horizontal and r.role == "other":
                for s in r.spans:
                    sizes[round(s.size * 2) / 2] += len(s.text)
    if not sizes:
        return 10.0, set()
    body_size = sizes.most_common(1)[0][0]
    fonts: Counter = Counter()
    for p in pages:
        for r in p.rows:
            if r.horizontal and r.role == "other" and abs(r.size - body_size) <= 0.6:
                fonts[r.font] += len(r.text)
    total = sum(fonts.values()) or 1
    body_fonts = {f for f, n in fonts.items() if n >= 0.03 * total}
    return body_size, body_fonts


def _is_body_styled(r: Row, stats: DocStats) -> bool:
    return r.horizontal and abs(r.size - stats.body_size) <= 0.75 and r.font in stats.body_fonts


def _columns(pages: list[PageText], stats: DocStats) -> None:
    """Text area and columns from the wide body-styled rows."""
    rows = [
        r
        for p in pages
        for r in p.rows
        if r.role == "other" and _is_body_styled(r, stats) and len(r.text) > 25
    ]
    if not rows:
        xs = [(r.x0, r.x1) for p in pages for r in p.rows if r.horizontal]
        if xs:
            stats.text_x0 = min(x for x, _ in xs)
            stats.text_x1 = max(x for _, x in xs)
        stats.columns = [(stats.text_x0, stats.text_x1)]
        return
    x0s = sorted(r.x0 for r in rows)
    x1s = sorted(r.x1 for r in rows)
    stats.text_x0 = x0s[len(x0s) // 50]
    stats.text_x1 = x1s[-1 - len(x1s) // 50]
    width = stats.text_x1 - stats.text_x0
    narrow = [r for r in rows if r.width < 0.6 * width]
    if len(narrow) < 0.4 * len(rows):
        stats.columns = [(stats.text_x0, stats.text_x1)]
    else:
        mid = (stats.text_x0 + stats.text_x1) / 2
        left = [r for r in narrow if (r.x0 + r.x1) / 2 < mid]
        right = [r for r in narrow if (r.x0 + r.x1) / 2 >= mid]
        if len(left) < 0.1 * len(narrow) or len(right) < 0.1 * len(narrow):
            stats.columns = [(stats.text_x0, stats.text_x1)]
        else:
            lx1 = Counter(round(r.x1) for r in left).most_common(1)[0][0]
            rx0 = Counter(round(r.x0) for r in right).most_common(1)[0][0]
            stats.columns = [(stats.text_x0, float(lx1)), (float(rx0), stats.text_x1)]
    # typical distance between baselines of consecutive body rows
    steps: Counter = Counter()
    for p in pages:
        prev = None
        for r in sorted((r for r in p.rows if r in rows), key=lambda r: (round(r.x0 / 50), r.y0)):
            if prev is not None and 0 < r.y1 - prev.y1 < 3 * stats.body_size:
                steps[round(r.y1 - prev.y1, 1)] += 1
            prev = r
    if steps:
        stats.line_height = steps.most_common(1)[0][0]


def _mark_body(pages: list[PageText], stats: DocStats) -> None:
    """Body rows: body style, and either wide for their column or inside a block of wide body rows."""
    for p in pages:
        by_block: dict[int, list[Row]] = defaultdict(list)
        for r in p.rows:
            by_block[r.block].append(r)
        wide_ids = set()
        for r in p.rows:
            if r.role != "other" or not _is_body_styled(r, stats):
                continue
            col = stats.column_of(r.x0, r.x1)
            col_width = (col[1] - col[0]) if col else (stats.text_x1 - stats.text_x0)
            table_like = r.max_gap > 1.0 * max(r.size, 1)
            if r.width >= 0.7 * col_width and not table_like:
                wide_ids.add(id(r))
        for r in p.rows:
            if id(r) in wide_ids:
                r.role = "body"
        # short rows (last rows of paragraphs, short paragraphs) inside blocks of wide body rows
        for members in by_block.values():
            n_wide = sum(1 for r in members if id(r) in wide_ids)
            if n_wide == 0:
                continue
            for r in members:
                if r.role == "other" and _is_body_styled(r, stats) and r.max_gap <= 1.0 * max(r.size, 1):
                    if n_wide >= 2 or len(r.text) > 40:
                        r.role = "body"
        # a run of >= 3 stacked rows that each end in a number is a table, not prose
        numeric_end = re.compile(r"\s[-−+]?[\d.,]*\d[\d.,%]*\s?[A-Za-z%]{0,5}$")
        stacked = sorted((r for r in p.rows if r.role == "body"), key=lambda r: (round(r.x0 / 20), r.y0))
        run: list[Row] = []
        for r in stacked + [None]:  # type: ignore[list-item]
            if (
                r is not None
                and numeric_end.search(r.text)
                and (
                    not run
                    or (
                        0 < r.baseline - run[-1].baseline <= 1.5 * stats.line_height
                        and abs(r.x0 - run[-1].x0) < 3
                    )
                )
            ):
                run.append(r)
                continue
            if len(run) >= 3:
                for t in run:
                    t.role = "other"
            run = [r] if r is not None and numeric_end.search(r.text) else []
        # the last row of a paragraph right below a body row that does not end a sentence
        body = sorted((r for r in p.rows if r.role == "body"), key=lambda r: r.y0)
        for r in sorted(p.rows, key=lambda r: r.y0):
            if r.role != "other" or not _is_body_styled(r, stats) or r.max_gap > 1.0 * max(r.size, 1):
                continue
            for above in body:
                step = r.baseline - above.baseline
                if (
                    0 < step <= 1.3 * stats.line_height
                    and above.x0 - 2.5 * r.size <= r.x0 <= above.x0 + 2
                    and r.x1 <= above.x1 + 2
                ):
                    if not re.search(r"[.!?:]['\")\]]*$", above.text):
                        r.role = "body"
                        body.append(r)
                    break
            else:
                # the end of a paragraph carried over to the top of a column, right above the next
                # (indented) paragraph
                for below in body:
                    step = below.baseline - r.baseline
                    if (
                        0 < step <= 1.3 * stats.line_height
                        and below.x0 - 2.5 * r.size <= r.x0 <= below.x0 + 2
                        and re.search(r"[.!?]['\")\]]*$", r.text)
                    ):
                        r.role = "body"
                        body.append(r)
                        break


_WEIGHTS = re.compile(
    r"bold|medi(um)?|regu(lar)?|roman|ital(ic)?|semi|demi|black|heavy|light|obli(que)?|"
    r"book|[-_,+]|\d|\bmt\b|ps$"
)
_EQ_NUMBER = re.compile(r"\(\s*(?:[A-Z]\.?)?[1-9]\d{0,2}(?:\.\d{1,2})?[a-z]?\s*\)$")


def font_family(font: str) -> str:
    """`LMRoman10-Bold` and `LMRoman10-Regular` -> the same family; `CMBX10` -> that of `CMR10`."""
    name = font.split("+", 1)[-1].lower()
    name = re.sub(r"^cm(bx|b)", "cmr", re.sub(r"^cmssbx", "cmss", name))
    return _WEIGHTS.sub("", name)


_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+\S")
# a numbered heading in any type style: "3.1.1. Simple Aperture Photometry", "V. C ONCLUSION" (small caps),
# "B. Storage of ...": a section number, then a capitalised word
_NUMBERED_HEADING = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z]\.(?:\d{1,2}\.?){0,3}|[IVX]{1,6}\.)\s+[A-Z]"
)
# appendix headings with a bare letter: "E Training corpus sizes"
_LETTER_HEADING = re.compile(r"^[A-Z](?:\.\d{1,2})*\s+[A-Z][a-z]")
_BULLET = re.compile(r"^\s*[•◦▪‣∙]\s*\S")


def _body_follows(row: Row, page: PageText, stats: DocStats) -> bool:
    """Body text starts right below the row (within 2.5 lines) in the same column."""
    for r in page.rows:
        if r.role == "body" and 0 < r.y0 - row.y1 <= 2.5 * stats.line_height:
            if min(r.x1, row.x1) - max(r.x0, row.x0) > 0 or abs(r.x0 - row.x0) < 2 * stats.body_size:
                return True
    return False


def _gap_before_tail(row: Row, tail: str) -> float:
    """Horizontal space in front of the spans that spell `tail` at the end of the row."""
    need = len(tail.replace(" ", ""))
    got = 0
    for i in range(len(row.spans) - 1, 0, -1):
        got += len(row.spans[i].text.replace(" ", ""))
        if got >= need:
            return row.spans[i].bbox[0] - row.spans[i - 1].bbox[2]
    return 0.0


def _numbered_heading(r: Row, page: PageText, col: tuple[float, float], stats: DocStats) -> bool:
    """A numbered section heading in any type style (italic, small capitals, plain): a section number and
    a capitalised word, in body-like size, alone on its line, flush left or centred in its column, without
    the wide gaps of a table row."""
    if not _NUMBERED_HEADING.match(r.text) or len(r.text) > 90 or r.max_gap > r.size:
        return False
    size = max(s.size for s in r.spans)  # (small capitals make the dominant size small)
    if not 0.85 * stats.body_size <= size <= 1.8 * stats.body_size or r.text.rstrip()[-1:] in ",;":
        return False
    if not any(len(w) >= 3 for w in re.findall(r"[A-Za-z]+", r.text)):
        return False
    if r.spans and r.spans[0].size < 0.9 * r.size:
        return False  # a raised footnote or table-note mark, not a section number
    flush_left = abs(r.x0 - col[0]) <= 1.5 * r.size
    centred = abs((r.x0 - col[0]) - (col[1] - r.x1)) <= 2 * r.size
    if not (flush_left or centred):
        return False
    for o in page.rows:  # cells level with it make it a table row
        if o is r or o.role in ("header", "linenumber") or not o.horizontal:
            continue
        if min(o.y1, r.y1) - max(o.y0, r.y0) > 0.5 * min(o.height, r.height) and col[0] - 2 <= o.x0 <= col[1]:
            return False
    return True


def _mark_headings_and_equations(pages: list[PageText], stats: DocStats) -> None:
    """Section headings (bold in the body's font family, or larger bold/capitals; numbered or followed by
    body text; or numbered in any style, see `_numbered_heading`), items of bulleted lists and
    display-equation rows (an equation number at the column's right edge) are part of the text flow:
    floats never swallow them."""
    families = {font_family(f) for f in stats.body_fonts}
    for p in pages:
        for r in p.rows:
            if r.role != "other" or not r.horizontal or len(r.text) < 2:
                continue
            m = _EQ_NUMBER.search(r.text)
            if m and abs(r.size - stats.body_size) <= 1.5:
                col = stats.column_of(r.x0, r.x1) or (stats.text_x0, stats.text_x1)
                alone = len(r.text.strip()) == len(m.group(0).strip())
                if r.x1 >= col[1] - 1.0 * r.size and (
                    alone or _gap_before_tail(r, m.group(0)) > 1.2 * r.size
                ):
                    r.role = "equation"
                    continue
            chars = sum(len(s.text.strip()) for s in r.spans) or 1
            bold = sum(len(s.text.strip()) for s in r.spans if s.bold) / chars
            styled = (bold >= 0.6 and font_family(r.font) in families) or (
                r.size >= 1.15 * stats.body_size and (bold >= 0.6 or r.text.isupper())
            )
            col = stats.column_of(r.x0, r.x1) or (stats.text_x0, stats.text_x1)
            flush_left = abs(r.x0 - col[0]) <= 1.5 * r.size
            if (
                styled
                and len(r.text) >= 3
                and 0.85 * stats.body_size <= r.size <= 1.8 * stats.body_size
                and (
                    _SECTION_NUMBER.match(r.text)
                    or (flush_left and _LETTER_HEADING.match(r.text))
                    or _body_follows(r, p, stats)
                )
            ):
                r.role = "heading"  # (a bold axis title is neither numbered nor followed by body text)
            elif _numbered_heading(r, p, col, stats):
                r.role = "heading"
            elif (
                _BULLET.match(r.text)
                and abs(r.size - stats.body_size) <= 1.5
                and r.max_gap <= r.size
                and col[0] - r.size <= r.x0 <= col[0] + 6 * r.size
            ):
                r.role = "body"  # an item of a bulleted list is text flow
        # a heading that wraps: bold rows right below a heading row continue it
        for r in sorted(p.rows, key=lambda r: r.y0):
            if (
                r.role != "other"
                or not r.spans
                or not all(sp.bold for sp in r.spans if len(sp.text.strip()) > 1)
            ):
                continue
            if any(
                h.role == "heading"
                and 0 < r.baseline - h.baseline <= 1.3 * stats.line_height
                and min(h.x1, r.x1) - max(h.x0, r.x0) > 0
                and abs(h.size - r.size) < 0.6
                for h in p.rows
            ):
                r.role = "heading"


def _split_at_gutter(pages: list[PageText], stats: DocStats) -> None:
    """pymupdf sometimes puts rows of two columns that share a baseline into one line (or a margin
    caption and the text beside it): cut them where a gap between their spans covers a gutter or the
    edge of the text area."""
    cuts = [(stats.columns[i][1], stats.columns[i + 1][0], 0.0) for i in range(len(stats.columns) - 1)]
    cuts += [(stats.text_x0 - 3, stats.text_x0 - 0.5, 0.8), (stats.text_x1 + 0.5, stats.text_x1 + 3, 0.8)]
    for p in pages:
        out = []
        for r in p.rows:
            cut = None
            if r.horizontal and len(r.spans) >= 2:
                for i in range(1, len(r.spans)):
                    left = max(s.bbox[2] for s in r.spans[:i])
                    right = r.spans[i].bbox[0]
                    for lo, hi, min_gap in cuts:
                        if left <= lo + 1 and right >= hi - 1 and right - left >= min_gap * max(r.size, 1):
                            cut = i
                            break
                    if cut is not None:
                        break
            if cut is None:
                out.append(r)
                continue
            for part in (r.spans[:cut], r.spans[cut:]):
                box = (
                    min(s.bbox[0] for s in part),
                    min(s.bbox[1] for s in part),
                    max(s.bbox[2] for s in part),
                    max(s.bbox[3] for s in part),
                )
                piece = Row(
                    r.page,
                    *box,
                    spans=list(part),
                    block=r.block,
                    index_in_block=r.index_in_block,
                    role=r.role,
                    baseline=r.baseline,
                )
                out.append(_finish(piece))
        p.rows = out


def analyse(pages: list[PageText]) -> DocStats:
    """Assign row roles (header, linenumber, body, heading, equation) and return the document statistics."""
    _mark_headers(pages)
    stats = DocStats()
    stats.body_size, stats.body_fonts = _body_style(pages)
    _columns(pages, stats)
    _split_at_gutter(pages, stats)
    _mark_body(pages, stats)
    _mark_headings_and_equations(pages, stats)
    return stats
