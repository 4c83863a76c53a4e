"""arXiv identifiers: the one owner of the id patterns, in every form users paste and files carry.

Two schemes exist. New style (from April 2007): `YYMM.NNNN` (to 2014) or `YYMM.NNNNN`, e.g.
`2307.01139`. Old style (1991 to March 2007): `archive[.SC]/YYMMNNN`, e.g. `hep-th/9901001` or
`math.GT/0309136`. Either may carry a version, `v2`.

A `/` cannot be in a file name, so the file-name form of an old-style id drops it:
`hep-th/9901001v1` is saved as `hep-th9901001v1.pdf` (the form arXiv's own bulk data uses), and
`id_from_name` maps that back. New-style ids are their own file-name form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NEW_NUMBER = r"\d{4}\.\d{4,5}"
OLD_ARCHIVE = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?"
VERSION = r"v\d+"
FIVE_DIGITS_FROM = "1501"  # YYMM from which new-style numbers have five digits

# In file names: new style not glued to other digits or dots; old style with `/`, `_` or nothing
# between archive and number (`hep-th9901001v1.pdf`, `math.GT_0309136.tar.gz`).
NAME_NEW = re.compile(rf"(?<![\d.])({NEW_NUMBER})({VERSION})?(?![\d])")
NAME_OLD = re.compile(r"\b([a-z][a-z\-]+(?:\.[A-Z]{2})?)[/_]?(\d{7})(v\d+)?\b")
# In running text (a PDF's page 1): the `arXiv:ID` stamp; citations use the same form, so callers
# decide from the position which match is the paper's own.
IN_TEXT = re.compile(rf"ar[Xx]iv\s*:?\s*({NEW_NUMBER}(?:{VERSION})?|{OLD_ARCHIVE}/\d{{7}}(?:{VERSION})?)")
# What users paste: a bare id, `arXiv:ID`, an abs/pdf/e-print/src URL (any host of arXiv's, http or
# https, `.pdf` ending), or arXiv's DOI `10.48550/arXiv.ID`.
_BARE = rf"(?P<base>{NEW_NUMBER}|{OLD_ARCHIVE}/\d{{7}})(?:v(?P<version>\d+))?"
_PASTED = re.compile(
    rf"""^\s*(?:
        (?:arxiv\s*:\s*)?
      | (?:https?://)?(?:[\w-]+\.)*arxiv\.org/(?:abs|pdf|e-print|src|format|html)/
      | (?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.
    ){_BARE}(?:\.pdf)?/?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class ArxivId:
    """An arXiv id: `base` without version (`2307.01139`, `hep-th/9901001`) and the version, if given."""

    base: str
    version: int | None = None

    @property
    def versioned(self) -> str:
        """`2307.01139v2`, or the base when no version is known."""
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def stem(self) -> str:
        """The file-name form: `hep-th/9901001v1` -> `hep-th9901001v1`."""
        return self.versioned.replace("/", "")

    def with_version(self, version: int | None) -> ArxivId:
        return ArxivId(self.base, version)

    def __str__(self) -> str:
        return self.versioned


def parse_arxiv_id(text: str) -> ArxivId | None:
    """The id in a pasted string (`2307.01139v2`, `arXiv:2307.01139`, `hep-th/9901001`,
    `https://arxiv.org/abs/2307.01139v2`, `https://arxiv.org/pdf/2307.01139.pdf`,
    `10.48550/arXiv.2307.01139`), else None. The whole string must be the id: no guessing in prose."""
    m = _PASTED.match(text or "")
    if not m:
        return None
    base = m.group("base")
    if "/" not in base and len(base.split(".")[1]) != (5 if base[:4] >= FIVE_DIGITS_FROM else 4):
        return None  # 4-digit numbers until 1412, 5 digits from 1501: `2307.0113` is a typo
    if "/" in base:  # archive names are lower case, the subject class upper case: `math.GT/0309136`
        archive, number = base.split("/")
        name, dot, sc = archive.partition(".")
        base = f"{name.lower()}{dot}{sc.upper()}/{number}"
    return ArxivId(base, int(m.group("version")) if m.group("version") else None)


def arxiv_id_from_name(name: str) -> str | None:
    """`2307.01139v2.pdf`, `arXiv-2307.01139.tar.gz`, `hep-th9901001v1.pdf` -> the arXiv id (with `/`)."""
    m = NAME_NEW.search(name)
    if m:
        return m.group(1) + (m.group(2) or "")
    m = NAME_OLD.search(name)
    if m:
        return f"{m.group(1)}/{m.group(2)}{m.group(3) or ''}"
    return None


def arxiv_id_in_text(text: str) -> re.Match | None:
    """The first `arXiv:ID` in running text (group 1 is the id as written)."""
    return IN_TEXT.search(text)
