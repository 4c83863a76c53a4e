"""One paper's arXiv metadata: the record `download` writes to `PAPERS/metadata.jsonl`, one per line.

The same record is built from the Atom search API (versions, withdrawal notes), OAI-PMH format `arXiv`
(the licence), or a line of the public metadata snapshot; `extract` joins it into the figure rows
(`paper_id` with version, normalised `license`, the `paper` struct).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields

from .identifiers import ArxivId
from .licenses import arxiv_license

# arXiv's comment on a withdrawn version: "This paper has been withdrawn by the author(s) ...", "Withdrawn"
WITHDRAWN = re.compile(r"^\W*withdrawn\b|\b(?:has been|have been|is|was|were) withdrawn\b", re.IGNORECASE)
SPACES = re.compile(r"\s+")
PAPER_FIELDS = ("title", "authors", "abstract", "categories", "published", "doi")  # the rows' `paper`


def clean(text: str | None) -> str | None:
    """Metadata text with its line breaks and runs of spaces collapsed (arXiv wraps at ~80 columns)."""
    return SPACES.sub(" ", text).strip() if text and text.strip() else None


@dataclass
class PaperRecord:
    id: str  # without version: `2307.01139`, `hep-th/9901001`
    version: int | None = None  # the version the files are of (the latest when fetched)
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None
    categories: list[str] = field(default_factory=list)  # primary first
    published: str | None = None  # YYYY-MM-DD of version 1
    updated: str | None = None  # YYYY-MM-DD of the latest version
    license_url: str | None = None  # as arXiv records it; null when none is recorded
    license: str | None = None  # normalised (`CC-BY-4.0`, `arXiv-assumed-1991-2003` when none recorded)
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    withdrawn: bool = False
    files: dict = field(default_factory=dict)  # pdf, source: file names in PAPERS; sizes; source_format

    @property
    def arxiv_id(self) -> ArxivId:
        return ArxivId(self.id, self.version)

    @property
    def paper_id(self) -> str:
        return self.arxiv_id.versioned

    @property
    def stem(self) -> str:
        return self.arxiv_id.stem

    def set_license_url(self, url: str | None) -> None:
        self.license_url = clean(url)
        self.license = arxiv_license(self.license_url)

    def fill_from(self, other: PaperRecord) -> None:
        """Take from `other` what this record lacks (Atom and OAI-PMH each know part of a paper)."""
        for f in fields(self):
            if f.name in ("id", "files"):
                continue
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if (mine is None or mine == [] or mine is False) and theirs not in (None, [], False):
                setattr(self, f.name, theirs)

    def paper(self) -> dict:
        """The rows' `paper` struct."""
        return {name: getattr(self, name) for name in PAPER_FIELDS}

    def to_json(self) -> str:
        return json.dumps({"paper_id": self.paper_id, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> PaperRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
