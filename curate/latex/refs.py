"""Mentions: the body paragraphs and sentences that refer to each float.

A paragraph refers to a float through the `\\ref` family (`\\ref`, `\\autoref`, `\\cref` lists and
ranges, `\\subref`, `\\hyperref[...]`, and user macros that expand to them; `\\eqref` points at
equations, never at floats) or through plain text such as `Figure 3`, `Figs. 2 and 4`, `Table II`
(pandoc and hand-written sources have no labels). A reference to a subfigure counts for its parent
float. Each float gets each mentioning paragraph once, and the sentences of it that hold the mention.
"""

from __future__ import annotations

import re

from .text import CITE_CLOSE, CITE_OPEN, MARK_CLOSE, MARK_OPEN, Target, strip_markers

# Words after which a full stop does not end a sentence.
_ABBREV = {
    "fig",
    "figs",
    "eq",
    "eqs",
    "eqn",
    "eqns",
    "ref",
    "refs",
    "sec",
    "secs",
    "sect",
    "tab",
    "tabs",
    "no",
    "nos",
    "al",
    "e.g",
    "i.e",
    "cf",
    "vs",
    "viz",
    "etc",
    "approx",
    "resp",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "st",
    "ch",
    "app",
    "appx",
    "suppl",
    "supp",
    "vol",
    "pp",
    "p",
    "ca",
    "est",
    "min",
    "max",
    "var",
    "std",
    "avg",
    "incl",
}
_SPLIT = re.compile(r"(?<=[.!?])([\"”’)]*)\s+(?=[A-Z0-9\"“(\[\ue000\ue002])")
_MARK = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")

_NUM = r"(?:S|SI\.?|[A-Z]\.?)?\d+(?:\.\d+)*[a-z]?|[IVXL]+"
TEXT_MENTION = re.compile(
    r"\b(Figures?|Figs?\.|FIGS?\.|FIGURES?|Tables?|TABLES?|Tabs?\.)\s*"
    rf"({_NUM})((?:\s*(?:,|and|&|-|–|—|to)\s*(?:{_NUM})\b)*)"
)


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping `Fig. 3`, `et al. (2014)` and initials together."""
    out: list[str] = []
    start = 0
    for m in _SPLIT.finditer(text):
        before = text[start : m.start()]
        word = re.search(r"([A-Za-z.]+)\.$", before)
        if word and not m.group(1):
            w = word.group(1).lower().rstrip(".")
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                continue
        out.append(text[start : m.end(1)].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _expand(first: str, rest: str) -> list[str]:
    """`3`, `, 4 and 6` -> [3, 4, 6]; `2-4` -> [2, 3, 4] (plain numbers only)."""
    numbers = [first]
    prev = first
    for sep, num in re.findall(rf"\s*(,|and|&|-|–|—|to)\s*({_NUM})", rest):
        if (
            sep in ("-", "–", "—", "to")
            and prev.isdigit()
            and num.isdigit()
            and 0 < int(num) - int(prev) < 30
        ):
            numbers += [str(k) for k in range(int(prev) + 1, int(num) + 1)]
        else:
            numbers.append(num)
        prev = num
    return numbers


_CITATION = re.compile(f"{CITE_OPEN}[^{CITE_CLOSE}]*{CITE_CLOSE}")
_SUPPLEMENT_BEFORE = re.compile(r"\b(Supplement\w*|Suppl?\.|Extended Data|E?SI|Online)\s*$", re.IGNORECASE)
_OTHER_PAPER_AFTER = re.compile(f"^\\s*(of|in|from)\\s+({CITE_OPEN}|ref\\.|Ref\\.|\\[)")


def text_mentions(sentence: str) -> list[tuple[str, str]]:
    """(kind, number) pairs a sentence names in plain text: `Figs. 2 and 3a` -> figure 2, figure 3a.

    Not counted: mentions inside a citation's notes (`\\citep[see Figure 3 of][]{x}`), a figure of a
    cited paper (`Figure 1 of [12]`) and a supplement's figures (`Supplementary Figure 2`) when the
    number is not itself a supplement number.
    """
    sentence = _CITATION.sub(CITE_OPEN, sentence)
    found = []
    for m in TEXT_MENTION.finditer(sentence):
        if _OTHER_PAPER_AFTER.match(sentence[m.end() :]):
            continue
        if _SUPPLEMENT_BEFORE.search(sentence[: m.start()]) and not m.group(2).startswith("S"):
            continue
        kind = "figure" if m.group(1).lower().startswith("fig") else "table"
        for number in _expand(m.group(2), m.group(3) or ""):
            found.append((kind, number))
    return found


def attach_mentions(
    paragraphs: list[str], labels: dict[str, list[str] | Target], floats: list, marked_labels: list[list[str]]
) -> None:
    """Fill `paragraphs` and `mentions` of `floats` (records.Float) from rendered paragraphs.

    `paragraphs[i]` is the text of paragraph i with reference markers, `marked_labels[i]` the labels
    its markers stand for, `labels` maps labels to their Target.
    """
    by_key: dict[tuple[str, str], int] = {}
    for index, f in enumerate(floats):
        by_key.setdefault((f.kind, f.number.upper()), index)

    def float_of_text(kind: str, number: str) -> int | None:
        hit = by_key.get((kind, number.upper()))
        if hit is None and re.search(r"\d[a-z]$", number):
            hit = by_key.get((kind, number[:-1].upper()))  # "Figure 4a": the panel of figure 4
        return hit

    for text, marked in zip(paragraphs, marked_labels):
        clean_paragraph = strip_markers(text)
        hits: dict[int, list[str]] = {}
        for sentence in sentences(text):
            targets: list[int] = []
            for k in _MARK.findall(sentence):
                label = marked[int(k)] if int(k) < len(marked) else None
                t = labels.get(label) if label else None
                if (
                    isinstance(t, Target)
                    and t.float_index is not None
                    and t.kind in ("figure", "table", "subfigure", "subtable")
                ):
                    targets.append(t.float_index)
            clean = strip_markers(sentence)
            for kind, number in text_mentions(_MARK.sub("", sentence)):
                index = float_of_text(kind, number)
                if index is not None:
                    targets.append(index)
            for index in dict.fromkeys(targets):
                hits.setdefault(index, [])
                if clean not in hits[index]:
                    hits[index].append(clean)
        for index, sents in hits.items():
            f = floats[index]
            if clean_paragraph not in f.paragraphs:
                f.paragraphs.append(clean_paragraph)
            for s in sents:
                if s not in f.mentions:
                    f.mentions.append(s)
