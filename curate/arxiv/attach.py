"""Join arXiv metadata into `extract`: which record belongs to which document, and `--license`.

The records come from `metadata.jsonl` files beside the inputs (what `download` writes) and from
`--metadata FILE` (such a file, or the arXiv snapshot). A document matches a record by the arXiv id
of its file names; when both name a version they must agree, since a licence is granted per version.
A file named without version takes the record's version only when the record names that very file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..inputs import Document
from .download import METADATA
from .identifiers import parse_arxiv_id
from .licenses import allows
from .snapshot import index_for


def metadata_files(inputs: Iterable[Path], extra: Iterable[Path] = ()) -> list[Path]:
    """`metadata.jsonl` beside or inside each input, then the `--metadata` files (later ones win)."""
    found: list[Path] = []
    for given in inputs:
        given = Path(given)
        candidate = given / METADATA if given.is_dir() else given.parent / METADATA
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
    return found + [Path(p) for p in extra if Path(p) not in found]


def attach_metadata(
    docs: list[Document],
    files: list[Path],
    licenses: set[str] | None = None,
    default_license: str | None = None,
) -> list[Document]:
    """Set `doc.metadata` ({"license", "paper"}) where a record matches, versioning `stem_id` when the
    record names the file; return the documents that `licenses` leaves out (licence known before
    extraction: the record's, else `default_license`, else unknown)."""
    ids = {id(d): parse_arxiv_id(d.stem_id) for d in docs}
    index = index_for(files, {a.base for a in ids.values() if a}) if files else {}
    left_out = []
    for doc in docs:
        aid = ids[id(doc)]
        record = index.get(aid.base) if aid else None
        names = {p.name for p in (doc.pdf, doc.source) if p is not None}
        if record is not None and aid.version is not None and record.version not in (None, aid.version):
            record = None  # another version's record: its licence may not be this version's
        if record is not None:
            if aid.version is None and names & {record.files.get("pdf"), record.files.get("source")}:
                doc.stem_id = record.paper_id
            doc.metadata = {"license": record.license, "paper": record.paper()}
        license = record.license if record is not None else default_license
        if not allows(licenses, license):
            left_out.append(doc)
    return left_out
