"""Process one document: PDF side, LaTeX side, join, then `figures` and `errors` rows.

This runs inside a worker process (see runner.py). It never raises for bad input: every failure
becomes an error row with the stage where it happened and a message that says what to do.
"""

from __future__ import annotations

import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..schemas import validate_row
from . import ids
from .archives import UnsafeArchiveError
from .arxiv.identifiers import arxiv_id_from_name
from .inputs import Document
from .join import Joined, join
from .latex.extract import LatexSourceError, extract_latex
from .ocr import DEFAULT_ENGINE
from .pdf.extract import PdfOpenError, extract_pdf
from .records import SideResult
from .rows import error_row, figure_row


@dataclass
class Options:
    dpi: int = 150
    ocr: str = "auto"
    ocr_engine: str = DEFAULT_ENGINE
    license: str | None = None  # applies to every input of the run when the user knows it
    workdir: Path | None = None  # scratch space for unpacking sources (inside OUT)


@dataclass
class Result:
    key: str
    paper_id: str
    figures: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    pages: int = 0


def _internal(doc: Document, stage: str, exc: BaseException) -> dict:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return error_row(
        doc.input,
        doc.key,
        "internal",
        type(exc).__name__,
        f"unexpected {type(exc).__name__} during {stage}{at}: {exc}. This is a bug in scitune: "
        "please report it with the input file.",
        doc.paper_id,
    )


def _pdf_side(doc: Document, opts: Options, errors: list[dict]) -> SideResult | None:
    try:
        return extract_pdf(doc.pdf, dpi=opts.dpi, ocr=opts.ocr, ocr_engine=opts.ocr_engine)
    except PdfOpenError as e:
        errors.append(error_row(str(doc.pdf), doc.pdf_sha256, "open", "PdfOpenError", str(e), doc.paper_id))
    except Exception as e:  # noqa: BLE001 - one bad document must not end the run
        errors.append(_internal(doc, "PDF extraction", e))
    return None


def _latex_side(doc: Document, opts: Options, errors: list[dict]) -> SideResult | None:
    scratch = Path(tempfile.mkdtemp(prefix="src-", dir=opts.workdir))
    try:
        return extract_latex(doc.source, scratch, dpi=opts.dpi)
    except UnsafeArchiveError as e:
        errors.append(
            error_row(
                str(doc.source), doc.source_sha256, "unpack", "UnsafeArchiveError", str(e), doc.paper_id
            )
        )
    except LatexSourceError as e:
        errors.append(
            error_row(str(doc.source), doc.source_sha256, "parse", "LatexSourceError", str(e), doc.paper_id)
        )
    except RecursionError:  # structure nested beyond what the parser can walk: the input, not a bug
        message = "the source nests groups or environments too deeply to parse; it was skipped"
        errors.append(
            error_row(str(doc.source), doc.source_sha256, "parse", "too_deep", message, doc.paper_id)
        )
    except Exception as e:  # noqa: BLE001
        errors.append(_internal(doc, "LaTeX extraction", e))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None


def _side_errors(doc: Document, side: SideResult, path: Path, sha: str | None) -> list[dict]:
    rows = []
    for e in side.errors:
        fid = ids.figure_id(doc.paper_id, e.kind, e.number) if e.kind and e.number else None
        rows.append(error_row(str(path), sha, e.stage, e.error, e.message, doc.paper_id, fid))
    return rows


def _no_image(doc: Document, j: Joined) -> tuple[str, str]:
    f = j.float
    if j.source != "latex":
        return "no_region", (
            f"the caption of {f.kind} {f.number} was found on page {f.page} but not the region "
            "of the float; the row was left out rather than given a wrong image."
        )
    what = (
        "its graphic files could not be rendered"
        if f.graphics
        else "a table typeset in LaTeX has no image file"
        if f.kind == "table"
        else "it has no image file in the source (TikZ, pgfplots or a tabular)"
    )
    if doc.pdf:
        return (
            "no_image",
            f"{f.kind} {f.number} is in the LaTeX source but was not found in the PDF, and {what}.",
        )
    return "no_image", (
        f"{f.kind} {f.number}: {what}; give the paper's PDF beside the source (same name) to "
        "take its image from there."
    )


def process_document(doc: Document, opts: Options) -> Result:
    """All rows of one document. Never raises for bad input."""
    errors: list[dict] = []
    pdf = _pdf_side(doc, opts, errors) if doc.pdf else None
    tex = _latex_side(doc, opts, errors) if doc.source else None
    stem_is_arxiv = arxiv_id_from_name(doc.stem_id) == doc.stem_id
    if pdf:
        doc.paper_id = ids.with_pdf_stamp(doc.paper_id, doc.stem_id, stem_is_arxiv, pdf.arxiv_id)
    result = Result(doc.key, doc.paper_id, pages=pdf.pages if pdf else 0)
    if pdf:
        errors += _side_errors(doc, pdf, doc.pdf, doc.pdf_sha256)
    if tex:
        errors += _side_errors(doc, tex, doc.source, doc.source_sha256)
    # arXiv's record is the licence's authority; then what the user vouches for; then what the paper says.
    license = (
        (doc.metadata or {}).get("license")
        or opts.license
        or (pdf.license if pdf else None)
        or (tex.license if tex else None)
    )
    seen: set[str] = set()
    for j in join(pdf.floats if pdf else [], tex.floats if tex else []):
        fid = ids.figure_id(doc.paper_id, j.float.kind, j.float.number)
        if not j.float.image_png:
            if not any(e["figure_id"] == fid for e in errors):  # one reason per float is enough
                errors.append(error_row(doc.input, doc.key, "float", *_no_image(doc, j), doc.paper_id, fid))
            continue
        if fid in seen:
            errors.append(
                error_row(
                    doc.input,
                    doc.key,
                    "float",
                    "duplicate_number",
                    f"a second {j.float.kind} numbered {j.float.number} was found (page {j.float.page}); "
                    "the first one was kept.",
                    doc.paper_id,
                    fid,
                )
            )
            continue
        try:
            row = figure_row(doc, j, license, opts.dpi)
        except Exception as e:  # noqa: BLE001
            errors.append(_internal(doc, f"building the row of {fid}", e))
            continue
        problems = validate_row(row, "figures")
        if problems:
            errors.append(
                error_row(doc.input, doc.key, "float", "invalid_row", "; ".join(problems), doc.paper_id, fid)
            )
            continue
        seen.add(fid)
        result.figures.append(row)
    for e in errors:
        e["paper_id"] = doc.paper_id
    result.errors = errors
    return result
