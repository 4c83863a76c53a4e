"""Find the documents in the inputs: PDFs, LaTeX source folders and source bundles, paired.

A `Document` is one unit of work: a PDF, a LaTeX source, or both for the same paper. A PDF and a
source are paired when they share a stem in the same folder (`NAME.pdf` beside `NAME/` or
`NAME.tar.gz`), when both names carry the same arXiv id, or when the user pairs them explicitly.
Inputs that are not usable become `Problem`s, which the runner writes as `errors` rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import ids
from .archives import archive_format
from .arxiv.identifiers import arxiv_id_from_name

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".gz")
DOCUMENTCLASS = re.compile(rb"^[^%\n]*\\documentclass", re.MULTILINE)
MAX_TEX_SNIFF = 4 * 2**20


@dataclass
class Document:
    """One paper to process: a PDF, a LaTeX source (folder or archive), or both."""

    pdf: Path | None = None
    source: Path | None = None
    key: str = ""  # content hash: resume identity
    pdf_sha256: str | None = None
    source_sha256: str | None = None
    stem_id: str = ""  # paper id from the file names (ids.name_paper_id)
    paper_id: str = ""  # stem_id made unique by the planner; the worker and runner may refine it (ids.py)
    metadata: dict | None = None  # arXiv metadata joined by extract: {"license", "paper"} (arxiv/attach.py)

    @property
    def input(self) -> str:
        return str(self.pdf or self.source)


@dataclass
class Problem:
    """An input that cannot be processed."""

    input: str
    stage: str
    error: str
    message: str
    sha256: str | None = None


@dataclass
class Plan:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: int = 0  # files of other types met while walking folders


def open_regular(path: Path):
    """Open a regular file for reading, never blocking: a named pipe (FIFO) called `x.pdf` would hang the
    run for ever in `open` or `read`, before any worker (and its time limit) exists."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file (a named pipe, socket or device)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_folder(path: Path) -> str:
    """Hash of a source folder: relative paths and contents of all files, in sorted order."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        # surrogateescape: a member name that is not UTF-8 hashes as its bytes instead of crashing
        name = f.relative_to(path).as_posix().encode("utf-8", "surrogateescape")
        h.update(name + b"\0" + sha256_file(f).encode() + b"\n")
    return h.hexdigest()


def strip_suffix(name: str) -> str:
    for suffix in ARCHIVE_SUFFIXES + (".pdf",):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_source_folder(path: Path) -> bool:
    """A folder holding a `.tex` file with `\\documentclass` is a LaTeX source root."""
    for tex in path.glob("*.tex"):
        try:
            with open_regular(tex) as f:
                head = f.read(MAX_TEX_SNIFF)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM
                head = head.decode("utf-16", "replace").encode("utf-8")
            if DOCUMENTCLASS.search(head):
                return True
        except OSError:
            continue
    return False


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_pdf(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"


def _walk(root: Path, skip: set[Path], plan: Plan) -> Iterator[Path]:
    """PDFs, archives and source folders below a folder, in a stable order."""
    if root.resolve() in skip:
        return
    if is_source_folder(root):
        for tex in sorted(root.glob("*.tex")):  # a FIFO beside the main file: reported, never opened
            if not tex.is_file() and not tex.is_dir():
                plan.problems.append(_not_regular(tex))
        yield root
        return
    if any(t.is_file() for t in root.glob("*.tex")):
        # Not silently skipped: the user may have meant this folder as a source.
        plan.problems.append(
            Problem(
                str(root),
                "parse",
                "no_main_file",
                f"{root} holds .tex files but none with \\documentclass: not a LaTeX source root (its "
                "subfolders were still searched). Give the folder that holds the main .tex file.",
            )
        )
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        if _refused_name(child, plan):
            continue
        if child.is_symlink():
            if not child.exists():
                plan.problems.append(
                    Problem(
                        str(child),
                        "input",
                        "broken_link",
                        f"{child} is a symbolic link to nothing; fix or remove it.",
                    )
                )
                continue
            if child.is_dir():
                # Links to folders can loop back or lead far outside what the user named.
                plan.problems.append(
                    Problem(
                        str(child),
                        "input",
                        "linked_folder",
                        f"{child} is a symbolic link to a folder and was not followed; "
                        f"give its target {child.resolve()} as an input to include it.",
                    )
                )
                continue
        if child.is_dir():
            yield from _walk(child, skip, plan)
        elif not child.is_file():
            plan.problems.append(_not_regular(child))
        elif _is_pdf(child) or _is_archive(child):
            yield child
        else:
            plan.ignored += 1


def _not_regular(path: Path) -> Problem:
    return Problem(
        str(path),
        "input",
        "not_regular_file",
        f"{path} is not a regular file (a named pipe, socket or device); it was skipped, since reading it "
        "could block the run for ever. Give the file itself.",
    )


def _refused_name(path: Path, plan: Plan) -> bool:
    """A name that is not valid UTF-8 (Linux allows any bytes) cannot be written into rows as it is."""
    try:
        str(path).encode("utf-8")
        return False
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        plan.problems.append(
            Problem(
                shown,
                "input",
                "bad_file_name",
                f"the name {shown!r} is not valid UTF-8 (shown with \\x escapes); it was skipped. Rename it "
                "to UTF-8 (e.g. `convmv -f latin1 -t utf8`) and re-run to include it.",
            )
        )
        return True


def _classify_file(path: Path) -> str | None:
    """`pdf` or `source` by name, else by content; None when it is neither."""
    if _is_pdf(path) or _is_archive(path):
        return "pdf" if _is_pdf(path) else "source"
    with open_regular(path) as f:
        if f.read(5).startswith(b"%PDF"):
            return "pdf"
    return "source" if archive_format(path) != "unknown" else None


def _pair(pdfs: list[Path], sources: list[Path], pairs: dict[Path, Path]) -> list[Document]:
    """Pair PDFs with sources: explicit pairs, then same folder + stem, then same arXiv id."""
    docs: list[Document] = []
    free_sources = list(sources)
    for pdf in pdfs:
        match = pairs.get(pdf.resolve())
        if match is None:
            stem = strip_suffix(pdf.name)
            candidates = [s for s in free_sources if s.parent == pdf.parent and strip_suffix(s.name) == stem]
            if not candidates and arxiv_id_from_name(pdf.name):
                aid = arxiv_id_from_name(pdf.name)
                candidates = [s for s in free_sources if arxiv_id_from_name(s.name) == aid]
            # A folder beats an archive of the same stem: it is what the user unpacked on purpose.
            candidates.sort(key=lambda s: (not s.is_dir(), str(s)))
            match = candidates[0] if candidates else None
        if match is not None and match in free_sources:
            free_sources.remove(match)
        docs.append(Document(pdf=pdf, source=match))
    docs += [Document(source=s) for s in free_sources]
    return docs


def plan_inputs(
    inputs: list[Path],
    skip: list[Path] = (),
    pairs: dict[Path, Path] | None = None,
    progress: bool = False,
) -> Plan:
    """Walk the inputs and return the documents to process and the inputs that cannot be.

    Every document is hashed here (its resume identity), which reads all input bytes once: with
    `progress`, a bar shows it for large corpora."""
    plan = Plan()
    skip_set = {Path(p).resolve() for p in skip}
    pairs = {Path(k).resolve(): Path(v) for k, v in (pairs or {}).items()}
    pdfs: list[Path] = []
    sources: list[Path] = []
    seen: set[Path] = set()
    for given in inputs:
        given = Path(given)
        if not given.exists():
            plan.problems.append(
                Problem(str(given), "input", "not_found", f"{given} does not exist: check the path.")
            )
            continue
        if _refused_name(given, plan):
            continue
        if not given.is_dir() and not given.is_file():
            plan.problems.append(_not_regular(given))
            continue
        found = list(_walk(given, skip_set, plan)) if given.is_dir() else [given]
        for path in found:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            kind = "source" if path.is_dir() else _classify_file(path)
            if kind == "pdf":
                pdfs.append(path)
            elif kind == "source":
                sources.append(path)
            else:
                plan.problems.append(
                    Problem(
                        str(path),
                        "input",
                        "unknown_type",
                        f"{path.name} is neither a PDF nor a LaTeX source bundle "
                        f"(.tar.gz, .tgz, .tar, .zip, .gz) nor a source folder.",
                    )
                )
    for src in pairs.values():
        if src.exists() and src not in sources:
            sources.append(src)
    docs = _pair(pdfs, sources, pairs)
    for doc in tqdm(
        docs,
        desc="hashing inputs",
        unit="doc",
        disable=not progress or len(docs) < 100,
        file=sys.stderr,
        leave=False,
    ):
        _identify(doc, plan)
    return plan


def _identify(doc: Document, plan: Plan) -> None:
    """Hash the document's files and derive its key and file-name paper id."""
    try:
        if doc.pdf:
            doc.pdf_sha256 = sha256_file(doc.pdf)
        if doc.source:
            doc.source_sha256 = sha256_folder(doc.source) if doc.source.is_dir() else sha256_file(doc.source)
    except OSError as e:
        plan.problems.append(Problem(doc.input, "input", type(e).__name__, f"cannot read {doc.input}: {e}"))
        return
    parts = [h for h in (doc.pdf_sha256, doc.source_sha256) if h]
    doc.key = parts[0] if len(parts) == 1 else hashlib.sha256(":".join(parts).encode()).hexdigest()
    names = [p.name for p in (doc.pdf, doc.source) if p is not None]
    doc.stem_id = ids.name_paper_id(map(arxiv_id_from_name, names), strip_suffix(names[0]))
    plan.documents.append(doc)


def assign_paper_ids(documents: list[Document], taken: dict[str, str]) -> None:
    """Give each document a unique paper id: its stem id, plus a hash suffix when two differ in content.

    `taken` maps already committed keys to their paper ids (from earlier runs on the same OUT).
    """
    owner = {pid: key for key, pid in taken.items()}
    for doc in sorted(documents, key=lambda d: d.key):
        doc.paper_id = ids.unique_paper_id(doc.stem_id, doc.key, owner)
