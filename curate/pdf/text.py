"""Body paragraphs of a PDF and the sentences in them that mention figures and tables.

Paragraphs are rebuilt from the body rows (layout.py) in reading order: page by page, and on each
page band by band (rows that span the columns cut the page into bands) and column by column inside a
band. A new paragraph starts at an indented row (TeX's `\\parindent`), or after a row that ends a
sentence and is short or followed by vertical space (styles without indent). A row that is not
indented continues the paragraph even across a display equation, a float, a column or a page break.
Row-end hyphenation is repaired with the document's own word counts (`captions.join_rows`).

Mentions: `Figure 3`, `Fig. 3b`, `Figs. 2 and 3`, `Figures 2-4`, `Fig. 4(a, b)`, `Table 1`,
`Tab. 2`, `Table II`, `Supplementary Fig. S2` (`Supplementary Fig. 2` is read as S2, the number
captions.py gives a supplementary caption without its own letter). Ranges are expanded.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .captions import join_rows
from .layout import DocStats, PageText, Row

_NUM = r"(?:[A-Z]{1,3}\.?)?\d+(?:\.\d+)*[a-z]?(?:\s?\([a-z](?:\s*[,–-]\s*[a-z])*\))?|\b[IVX]{1,5}\b"
REF = re.compile(
    r"(?P<supp>\b(?:Supplementary|Supplemental|Suppl\.|Extended\s+Data)\s+)?"
    r"\b(?P<word>[Ff]igures?|[Ff]igs?\.?|FIGS?\.?|FIGURES?|[Tt]ables?|TABLES?|[Tt]abs?\.)\s*"
    rf"(?P<list>(?:{_NUM})(?:\s*(?:,\s*(?:and|&|or)?|;|and|&|or|to|--|-|–|—)\s*(?:{_NUM}))*)"
)
_ITEM = re.compile(_NUM)
_RANGE = re.compile(rf"({_NUM})\s*(?:-|–|—|--|to)\s*({_NUM})")
_ABBREV = re.compile(
    r"(?:\b(?i:fig|figs|eq|eqs|ref|refs|sec|secs|tab|tabs|sect|app|al|e\.g|i\.e|vs|cf|approx|resp|dr|prof|no|nos"
    r"|vol|pp|ch|chap|etc|eqn|eqns|suppl)|\b[A-Z])\.$",
)
_SENT_END = re.compile(r"[.!?][\"')\]]*$")


@dataclass
class Paragraph:
    text: str
    page: int  # 0-based page of its first row
    rows: list[Row] = field(default_factory=list)


def reading_order(page: PageText, stats: DocStats) -> list[tuple[Row, int]]:
    """Body rows of a page in reading order, each with its column index (-1: spans columns)."""
    body = [r for r in page.rows if r.role == "body"]
    wide = sorted(
        (r for r in body if stats.column_of(r.x0, r.x1) is None and len(stats.columns) > 1),
        key=lambda r: r.y0,
    )
    wide_ids = {id(r) for r in wide}
    keyed = []
    for r in body:
        if id(r) in wide_ids:
            k = next(i for i, w in enumerate(wide) if w is r)
            keyed.append(((k, 99, r.y0), r, -1))
            continue
        above = sum(1 for w in wide if w.y1 <= r.y0 + 1)
        col = stats.column_of(r.x0, r.x1)
        ci = stats.columns.index(col) if col in stats.columns else 0
        keyed.append(((above, ci, r.y0), r, ci))
    keyed.sort(key=lambda t: t[0])
    return [(r, ci) for _, r, ci in keyed]


def _left_edges(page: PageText, order: list[tuple[Row, int]]) -> dict[int, tuple[float, float]]:
    """Per column of this page: the usual left and right edge of its body rows."""
    edges = {}
    for ci in {c for _, c in order}:
        rows = [r for r, c in order if c == ci]
        x0 = Counter(round(r.x0) for r in rows).most_common(1)[0][0]
        x1 = Counter(round(r.x1) for r in rows).most_common(1)[0][0]
        edges[ci] = (float(x0), float(x1))
    return edges


def build_paragraphs(
    pages: list[PageText], stats: DocStats, vocabulary: Counter | None = None
) -> list[Paragraph]:
    """All body paragraphs of the document in reading order (continued across columns and pages)."""
    paragraphs: list[Paragraph] = []
    current: list[Row] = []
    prev: Row | None = None
    prev_edges: tuple[float, float] | None = None

    def flush() -> None:
        if current:
            text = join_rows([r.text for r in current], vocabulary)
            if text:
                paragraphs.append(Paragraph(text, current[0].page, list(current)))
        current.clear()

    flows = []
    for page in pages:
        order = reading_order(page, stats)
        if order:
            flows.append((order, _left_edges(page, order)))
    # justified text ends rows at the column edge, so a row ending a sentence a little short of it
    # ends its paragraph; ragged-right text needs a clearly short row
    ends = [r.x1 >= edges[ci][1] - 1.5 for order, edges in flows for r, ci in order]
    justified = sum(ends) >= 0.5 * max(len(ends), 1)
    for order, edges in flows:
        for r, ci in order:
            left, right = edges[ci]
            size = max(r.size, 1.0)
            indent = r.x0 - left
            new = False
            if prev is None or 0.6 * size <= indent <= 6 * size:
                new = True
            elif _SENT_END.search(prev.text) and not _ABBREV.search(prev.text):
                prev_left, prev_right = prev_edges if prev_edges else (left, right)
                limit = 0.5 * size if justified else max(1.5 * size, 0.25 * (prev_right - prev_left))
                # vertical space, a heading, an equation or a float between the rows on one page
                spaced = prev.page == r.page and r.baseline - prev.baseline > 1.45 * stats.line_height
                new = prev.x1 < prev_right - limit or spaced
            if new:
                flush()
            current.append(r)
            prev, prev_edges = r, edges[ci]
    flush()
    return paragraphs


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph (a full stop ends one unless it follows an abbreviation like `Fig.`)."""
    out, start = [], 0
    for m in re.finditer(r"[.!?][\"')\]]*\s+(?=[A-Z(\[0-9])", text):
        head = text[start : m.end()].strip()
        if _ABBREV.search(text[max(start, m.start() - 8) : m.start() + 1]):
            continue
        out.append(head)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _expand(item_list: str) -> list[str]:
    """`2-4` -> 2, 3, 4; `S1–S3` -> S1, S2, S3; `3b` -> 3; `4(a, b)` -> 4."""
    numbers: list[str] = []
    spans = []
    for m in _RANGE.finditer(item_list):
        a, b = _base(m.group(1)), _base(m.group(2))
        ma, mb = re.match(r"(\D*?)(\d+)$", a), re.match(r"(\D*?)(\d+)$", b)
        if ma and mb and ma.group(1) == mb.group(1) and 0 <= int(mb.group(2)) - int(ma.group(2)) <= 30:
            numbers += [f"{ma.group(1)}{i}" for i in range(int(ma.group(2)), int(mb.group(2)) + 1)]
            spans.append((m.start(), m.end()))
    for m in _ITEM.finditer(item_list):
        if any(s <= m.start() < e for s, e in spans):
            continue
        numbers.append(_base(m.group(0)))
    seen, out = set(), []
    for n in numbers:
        if n and n not in seen:
            seen.add(n)
            out.append(n)
    return out


def _base(number: str) -> str:
    number = re.sub(r"\s?\(.*\)$", "", number.strip())
    m = re.match(r"^(.*\d)[a-z]$", number)
    return (m.group(1) if m else number).rstrip(".")


def references(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, number, start, end) of every figure/table reference in a text."""
    out = []
    for m in REF.finditer(text):
        kind = "figure" if m.group("word").lower().startswith("fig") else "table"
        for n in _expand(m.group("list")):
            if m.group("supp") and n[:1].isdigit():
                n = "S" + n
            out.append((kind, n, m.start(), m.end()))
    return out


def link_mentions(
    paragraphs: list[Paragraph], keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """For each (kind, number) in `keys`: the paragraphs and the sentences that mention it."""
    upper = {(k, n.upper()): (k, n) for k, n in keys}
    found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for p in paragraphs:
        refs = references(p.text)
        if not refs:
            continue
        hit = {upper[(k, n.upper())] for k, n, _, _ in refs if (k, n.upper()) in upper}
        if not hit:
            continue
        sentences = split_sentences(p.text)
        for key in hit:
            pars, sents = found.setdefault(key, ([], []))
            if p.text not in pars:
                pars.append(p.text)
            for s in sentences:
                if any(upper.get((k, n.upper())) == key for k, n, _, _ in references(s)) and s not in sents:
                    sents.append(s)
    return found
