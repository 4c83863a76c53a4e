"""Find figure and table captions in the text rows of a PDF and read their labels.

A caption starts a row with a label (`Figure 3:`, `Fig. 3.`, `FIGURE 3`, `Table II`,
`Supplementary Figure S2`, `Fig. A.1`). Body sentences start rows with the same words ("Figure 3 shows
..."), so each candidate row is scored on the cues that typesetters give captions (after pdffigures2,
Clark & Divvala 2016, which filters candidates by per-document caption style):

- a separator after the number (`:`, `.`, `|`, a dash, or `(...)` then `:`), or the label alone on its row;
- a label set apart by font (bold label, or a label font different from the text that follows);
- the row starts a text block (first row of its block or after vertical space);
- penalties: the row continues a paragraph (the row above is body text that does not end a sentence),
  the text after the number starts with a lower-case word, the row ends with a dot leader and a page
  number (a list of figures).

Candidates scoring >= 3 are captions. Labels followed by a capitalised word in the text font without a
separator ("Figure 3 Results of ...", scoring 0-2) are captions only in documents that never separate
labels of that kind. When one (kind, number) has several candidates, the best score wins and ties go to
the style (label font, size) that most captions of the document share.

The caption text is its first row plus the rows that follow it closely (line spacing, no rule or other
caption in between, same text size), joined with line-end hyphenation repaired.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .geometry import Rect, union_all
from .layout import DocStats, PageText, Row

LABEL = re.compile(
    r"""^\s*
    (?P<prefix>(?i:supplementary|supplemental|suppl\.|extended\s+data|appendix)\s+)?
    (?P<word>(?i:figure|fig\.|fig|table|tab\.|listing|algorithm))
    \s*
    (?P<number>
        (?:[A-Z]{1,3}[.\-]?)?\d{1,3}(?:[.\-]\d{1,3}){0,2}   # 3, S2, A.1, S2.3, SI.1, A1, 2.1
      | [IVXLC]{1,6}(?![a-z])                              # II, IV (roman, upper case)
    )
    (?P<rest>.*)$""",
    re.VERBOSE | re.DOTALL,
)
_STRONG_SEP = re.compile(r"^\s*(?:[:.|]|[—–-]\s|\u2014|\u2013)")
_PAREN_SEP = re.compile(r"^\s*\([^()]{0,60}\)\s*[:.|—–]")
_DOT_LEADER = re.compile(r"(\.\s?){4,}\s*\d+\s*$")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]*$")
# "Table 2 (continued)", "Table 3 ... (Continued)", "Table 1. Continued": the rest of a float begun on an
# earlier page. It is no float of its own (its number is the earlier one's), so it never makes a row.
CONTINUED = re.compile(r"\(\s*cont(?:inued|\.|'d)?\s*\)|\bcontinued\b", re.IGNORECASE)


# Floats that are figures numbered in a series of their own: code listings and algorithm boxes. Their
# number carries the word ("Listing2", "Algorithm2"), so Figure 2 and Listing 2 are two floats.
FLOAT_WORDS = {"listing": "Listing", "algorithm": "Algorithm"}


def series(c) -> str:
    """`listing`, `algorithm`, or the caption's kind: the series a float is numbered (and placed) in."""
    for word in FLOAT_WORDS.values():
        if c.number.startswith(word):
            return word.lower()
    return c.kind


@dataclass
class Label:
    kind: str  # figure | table
    number: str
    prefix_end: int  # index in the text where the caption proper starts (after the separator)
    separator: str  # "strong", "paren", "end" (label alone) or "space"
    word: str


@dataclass
class Caption:
    kind: str
    number: str
    page: int  # 0-based
    rows: list[Row]
    text: str  # with the label
    text_no_index: str
    score: float
    style: tuple = ()
    extra: dict = field(default_factory=dict)

    @property
    def bbox(self) -> Rect:
        return union_all(r.rect for r in self.rows)


def parse_label(text: str) -> Label | None:
    """Read the label at the start of a caption row; None when the row does not start with one."""
    m = LABEL.match(text)
    if not m:
        return None
    word = m.group("word")
    kind = "table" if word.lower().startswith("tab") else "figure"
    number = re.sub(r"\s+", "", m.group("number")).rstrip(".-")
    if word.lower() in FLOAT_WORDS:
        if not number.isdigit():
            return None
        # a listing or an algorithm box is a figure numbered apart from the figures: "Listing2"
        number = FLOAT_WORDS[word.lower()] + number
    rest = m.group("rest")
    if number.isdigit() and rest[:1].isalpha() and rest[:1].islower():
        return None  # "Fig. 3b" and "Figure 3a shows": a panel reference, not a caption label
    if rest[:1].isdigit():
        return None
    if re.fullmatch(r"[IVXLC]+", number) and rest[:1].isalpha():
        return None
    if m.group("prefix") and number[:1].isdigit():
        # "Supplementary Figure 2": kept apart from the main text's "Figure 2"
        number = "S" + number
    start = m.start("rest")
    if _STRONG_SEP.match(rest):
        sep = "strong"
        start += len(_STRONG_SEP.match(rest).group(0))
    elif not rest.strip():
        sep = "end"
    elif _PAREN_SEP.match(rest):
        sep = "paren"  # "Figure S2.3 (T = 10): ..." keeps the parenthesis in the caption
    else:
        sep = "space"
    return Label(kind, number, start, sep, word)


def _label_font_distinct(row: Row, label: Label) -> bool:
    """The label is bold while the text after it is not, or it uses another font."""
    consumed = 0
    label_spans, rest_spans = [], []
    for s in row.spans:
        (label_spans if consumed < label.prefix_end - 1 else rest_spans).append(s)
        consumed += len(s.text)
    if not label_spans or not rest_spans:
        return all(s.bold for s in label_spans) and bool(label_spans)
    label_bold = all(s.bold for s in label_spans if s.text.strip())
    rest_bold = all(s.bold for s in rest_spans if s.text.strip())
    if label_bold and not rest_bold:
        return True
    lf = Counter(s.font for s in label_spans).most_common(1)[0][0]
    rf = Counter(s.font for s in rest_spans).most_common(1)[0][0]
    return lf != rf


def _row_above(row: Row, rows: list[Row]) -> Row | None:
    """The nearest row above that overlaps this one horizontally."""
    best = None
    for r in rows:
        if r is row or not r.horizontal or r.y1 > row.y0 + 0.3 * row.height:
            continue
        if min(r.x1, row.x1) - max(r.x0, row.x0) <= 0:
            continue
        if best is None or r.y1 > best.y1:
            best = r
    return best


def _continues(above: Row, row: Row) -> bool:
    """`row` is the next line of the text in `above`: flush with it on the left, and `above` a full line
    of words (a line of running text set in the caption's size) that breaks off mid-sentence."""
    size = max(row.size, 1)
    words = re.findall(r"[A-Za-z]{2,}", above.text)
    return abs(above.x0 - row.x0) <= size and len(words) >= 6 and above.max_gap <= size


def _score(row: Row, label: Label, page: PageText, stats: DocStats) -> float:
    score = 0.0
    if label.separator in ("strong", "paren"):
        score += 3
    elif label.separator == "end":
        score += 2
    distinct = _label_font_distinct(row, label)
    if distinct:
        score += 2
    above = _row_above(row, page.rows)
    gap = row.y0 - above.y1 if above else 1e9
    if row.index_in_block == 0 or gap > 0.45 * max(row.size, 1):
        score += 1
    if above is not None and gap < 0.45 * max(row.size, 1) and not _SENTENCE_END.search(above.text):
        same_size = abs(above.size - row.size) < 0.6
        if above.role == "body" and same_size:
            score -= 4  # "... as shown in / Figure 3. The next ..." continues a paragraph
        elif above.role == "other" and same_size and _continues(above, row):
            score -= 4  # "... are provided in / Supplementary Table 3." continues another caption's text
    after = row.text[label.prefix_end :].lstrip()
    if after[:1].islower():
        # "Figure 3 shows ..." reads on as a sentence; after a separator a lower-case start is a unit or a
        # symbol more often than not ("Figure 3. pH dependence of ...")
        score -= 1 if label.separator == "strong" else 2
    if _DOT_LEADER.search(row.text):
        score -= 5
    if label.separator == "space" and not distinct:
        score -= 1
    return score


def _caption_rows(
    first: Row,
    page: PageText,
    starts: set[int],
    stats: DocStats,
    rules: list[tuple[float, float, float, float]],
    label_only: bool = False,
) -> list[Row]:
    """The first row plus the rows that continue the caption below it."""
    rows = [first]
    size = first.size
    x0, x1 = first.x0, first.x1
    col = stats.column_of(first.x0, first.x1)
    zone = col if col else (min(stats.text_x0, first.x0), max(stats.text_x1, first.x1))
    if (first.x0 + first.x1) / 2 < stats.text_x0:  # a caption in the page margin stays there
        zone = (first.x0, stats.text_x0 - 1)
    elif (first.x0 + first.x1) / 2 > stats.text_x1:
        zone = (stats.text_x1 + 1, first.x1)
    candidates = sorted(
        (r for r in page.rows if r.horizontal and r.y0 > first.y0 + 0.3 * first.height), key=lambda r: r.y0
    )
    last = first
    for r in candidates:
        inside = max(0.0, min(r.x1, zone[1] + 3) - max(r.x0, zone[0] - 3))
        if inside < 0.5 * r.width or min(r.x1, x1 + 3) - max(r.x0, x0 - 3) <= 0:
            continue  # another column, or a sub-caption beside this caption
        if r.role in ("header", "linenumber") or id(r) in starts:
            break
        # line spacing: the body's leading scaled to the caption's size (double-spaced manuscripts
        # space captions widely too), or the spacing already seen inside this caption
        step = r.y1 - last.y1
        expected = stats.line_height * size / max(stats.body_size, 1)
        if len(rows) >= 2:
            expected = max(expected, rows[-1].y1 - rows[-2].y1)
        if r.y0 - last.y1 > 0.5 * max(size, 1) and step > 1.25 * expected:
            break
        if abs(r.size - size) > 1.0 and not (
            len(rows) == 1 and label_only and 0.6 * size <= r.size <= 1.4 * size
        ):
            break  # (the title under a lone "TABLE I" may be set in small capitals)
        if inside < 0.9 * r.width:
            break  # wider than the caption's zone: body text of a full-width layout, or a table row
        if any(rl[1] >= last.y1 - 1 and rl[3] <= r.y0 + 1 and rl[0] < r.x1 and rl[2] > r.x0 for rl in rules):
            break  # a horizontal rule between the rows: the table starts
        if _ends_caption(last, x1, zone):
            break
        rows.append(r)
        x0, x1 = min(x0, r.x0), max(x1, r.x1)
        if len(rows) == 2 and label_only:
            size = r.size  # the text under a lone label sets the caption's size and width
            x0, x1 = r.x0, r.x1
        last = r
    return rows


def _run_on_rows(rows: list[Row], page: PageText, starts: set[int], stats: DocStats) -> list[Row]:
    """A caption under (or over) a float that spans the columns can run on at the top of the next column,
    level with its first row (Nature, Frontiers): the rows there in the caption's type, up to a break
    in line spacing, continue it when its last row fills the column and breaks off mid-sentence."""
    first, last = rows[0], rows[-1]
    col = stats.column_of(first.x0, first.x1)
    if col is None or _SENTENCE_END.search(last.text) or col == stats.columns[-1]:
        return []
    if len(rows) < 2 or last.x1 < col[1] - 1.5 * max(last.size, 1):
        return []  # a caption that runs on fills its column to the edge, as a justified paragraph does
    nxt = stats.columns[stats.columns.index(col) + 1]
    size = first.size if len(rows) == 1 else rows[1].size
    taken = {id(r) for r in rows}
    beside = sorted(
        (
            r
            for r in page.rows
            if r.horizontal
            and id(r) not in taken
            and r.role not in ("header", "linenumber", "body", "heading")
            and nxt[0] - 3 <= r.x0
            and r.x1 <= nxt[1] + 3
            and abs(r.size - size) <= 0.6
        ),
        key=lambda r: r.y0,
    )
    top = [r for r in beside if abs(r.y0 - first.y0) <= 0.5 * stats.line_height]
    if not top or id(top[0]) in starts or top[0].width < 0.6 * (nxt[1] - nxt[0]):
        return []
    out = [top[0]]
    step = (rows[1].y1 - rows[0].y1) if len(rows) >= 2 else stats.line_height * size / max(stats.body_size, 1)
    for r in beside:
        if r.y0 <= out[-1].y0 or id(r) in starts:
            continue
        if r.y1 - out[-1].y1 > 1.3 * step:
            break
        out.append(r)
        if _SENTENCE_END.search(r.text) and r.x1 < nxt[1] - 2 * size:
            break  # the last row of the caption: it ends a sentence short of the column's edge
    return out


def _ends_caption(last: Row, right: float, zone: tuple[float, float]) -> bool:
    """The row ends a sentence and stops short of the caption's right edge: the caption's last row
    (a one-row caption centred in its zone counts too)."""
    if not _SENTENCE_END.search(last.text) or last.text.endswith((":", ";")):
        return False
    size = max(last.size, 1)
    if last.x1 < right - 2 * size:
        return True
    centred = abs((last.x0 - zone[0]) - (zone[1] - last.x1)) < 2 * size
    return centred and last.width < 0.85 * (zone[1] - zone[0])


def join_rows(texts: list[str], vocabulary: Counter | None = None) -> str:
    """Join row texts, repairing hyphenation at row ends.

    `exam-` + `ple` -> `example`; the hyphen is kept when the document spells the word with a hyphen
    more often than without (`two-` + `dimensional`), judged from `vocabulary` (word counts).
    """
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if not out:
            out = t
            continue
        m = re.search(r"(\w+)[-\u2010]$", out)
        if m and t[:1].isalpha() and t[:1].islower():
            left = m.group(1)
            right = re.match(r"\w+", t).group(0) if re.match(r"\w+", t) else ""
            keep = False
            if vocabulary is not None and right:
                hyphenated = vocabulary.get(f"{left}-{right}".lower(), 0)
                joined = vocabulary.get(f"{left}{right}".lower(), 0)
                keep = hyphenated > joined
            out = out + t if keep else out[:-1] + t
        elif re.search(r"\w[-\u2010\u2013]$", out) and t[:1].isalnum():
            out = out + t  # "Navier-" + "Stokes", "10–" + "20": the hyphen or dash stays, no space
        else:
            out = out + " " + t
    return re.sub(r"\s+", " ", out).strip()


def find_captions(
    pages: list[PageText],
    stats: DocStats,
    rules_by_page: dict[int, list] | None = None,
    vocabulary: Counter | None = None,
) -> list[Caption]:
    """All captions of the document, one per (kind, number), in page order; sets row roles."""
    candidates: list[tuple[Row, Label, float, PageText]] = []
    weak: list[tuple[Row, Label, float, PageText]] = []
    continued: list[tuple[Row, Label, PageText]] = []
    for page in pages:
        for row in page.rows:
            if not row.horizontal or row.role in ("header", "linenumber"):
                continue
            if row.size < 0.6 * stats.body_size:
                continue  # tiny type: text inside a figure (a screenshot of another paper), not a caption
            label = parse_label(row.text)
            if label is None or row.text[: label.prefix_end].strip().lower().startswith(
                ("figures", "tables")
            ):
                continue
            if CONTINUED.search(row.text[label.prefix_end :][:200]):
                continued.append((row, label, page))
                continue
            score = _score(row, label, page, stats)
            if score >= 3:
                candidates.append((row, label, score, page))
            elif label.separator == "space" and score >= 0:
                weak.append((row, label, score, page))
    # "Figure 3 Results of ..." in the text font, no separator: a caption style of its own, taken when the
    # document never separates labels of that kind (the per-document style rule of pdffigures2)
    strong_kinds = {label.kind for _, label, _, _ in candidates}
    candidates += [w for w in weak if w[1].kind not in strong_kinds]

    def style(row: Row) -> tuple:
        return (row.spans[0].font, row.spans[0].bold, round(row.size))

    common_style = Counter(style(r) for r, *_ in candidates).most_common(1)
    common = common_style[0][0] if common_style else None
    best: dict[tuple[str, str], tuple[Row, Label, float, PageText]] = {}
    for cand in candidates:
        row, label, score, page = cand
        key = (label.kind, label.number)
        rank = score + (0.5 if style(row) == common else 0.0)
        if key not in best or rank > best[key][2] + (0.5 if style(best[key][0]) == common else 0.0):
            best[key] = (row, label, score, page)

    starts = {id(c[0]) for c in best.values()}
    for row, _, _ in continued:
        row.role = "caption"  # (a blocker for the floats of its page, as any caption)
    captions = []
    for row, label, score, page in sorted(best.values(), key=lambda c: (c[3].number, c[0].y0, c[0].x0)):
        rules = (rules_by_page or {}).get(page.number, [])
        rows = _caption_rows(row, page, starts, stats, rules, label.separator == "end")
        rows += _run_on_rows(rows, page, starts, stats)
        for r in rows:
            r.role = "caption"
        text = join_rows([r.text for r in rows], vocabulary)
        no_index = join_rows([row.text[label.prefix_end :]] + [r.text for r in rows[1:]], vocabulary)
        no_index = re.sub(r"^\s*[:.|—–-]\s*", "", no_index) if label.separator == "end" else no_index
        captions.append(
            Caption(label.kind, label.number, page.number, rows, text, no_index, score, style(row))
        )
    by_key = {(c.kind, c.number): c for c in captions}
    for _, label, page in continued:  # the pages a float goes on to (said in its errors rows)
        first = by_key.get((label.kind, label.number))
        if first is not None and page.number != first.page:
            first.extra.setdefault("continued_on", []).append(page.number)
    return captions
