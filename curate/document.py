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

from ..schemas import SCHEMA_VERSION, extractor_version, validate_row
from .archives import UnsafeArchiveError
from .figure_types import classify
from .figure_types.signals import image_signals
from .inputs import Document, arxiv_id_from_name
from .join import Joined, join
from .latex.extract import LatexSourceError, extract_latex
from .ocr import DEFAULT_ENGINE
from .pdf.extract import PdfOpenError, extract_pdf
from .records import SideResult


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


def error_row(
    doc_input: str,
    sha: str | None,
    stage: str,
    error: str,
    message: str,
    paper_id: str | None = None,
    figure_id: str | None = None,
) -> dict:
    return {
        "input": doc_input,
        "sha256": sha,
        "paper_id": paper_id,
        "figure_id": figure_id,
        "stage": stage,
        "error": error,
        "message": message,
        "extractor": extractor_version(),
        "schema_version": SCHEMA_VERSION,
    }


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
    except Exception as e:  # noqa: BLE001
        errors.append(_internal(doc, "LaTeX extraction", e))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None


def _side_errors(doc: Document, side: SideResult, path: Path, sha: str | None) -> list[dict]:
    rows = []
    for e in side.errors:
        fid = f"{doc.paper_id}/{e.kind}{e.number}" if e.kind and e.number else None
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


def figure_row(doc: Document, j: Joined, license: str | None, dpi: int) -> dict:
    f = j.float
    # Classified once the sides are joined: the PDF's drawings and the source's hints (TikZ, file names)
    # together, with the joined caption and mentions; a LaTeX-only float is judged on its rendered pixels.
    signals = dict(f.type_signals)
    if "has_image" not in signals:
        signals.update(image_signals(f.image_png))
    figure_type, score = classify(f.kind, f.caption_no_index, signals, f.mentions)
    return {
        "figure_id": f"{doc.paper_id}/{f.kind}{f.number}",
        "paper_id": doc.paper_id,
        "kind": f.kind,
        "number": f.number,
        "source": j.source,
        "page": f.page,
        "bbox": list(f.bbox) if f.bbox else None,
        "image": f.image_png,
        "caption": f.caption,
        "caption_no_index": f.caption_no_index,
        "label": f.label,
        "figure_type": figure_type,
        "ocr": f.ocr,
        "ocr_source": f.ocr_source if f.ocr else None,
        "paragraphs": f.paragraphs,
        "mentions": f.mentions,
        "subfigures": [{"label": s.get("label"), "caption": s.get("caption") or ""} for s in f.subfigures],
        "subfigure_images": [s["image_png"] for s in f.subfigures if s.get("image_png")]
        if all(s.get("image_png") for s in f.subfigures)
        else [],
        "provenance": {
            "input": str(doc.pdf or doc.source),
            "sha256": doc.pdf_sha256 or doc.source_sha256,
            "extractor": extractor_version(),
            "schema_version": SCHEMA_VERSION,
            "latex_input": str(doc.source) if doc.source and doc.pdf else None,
            "latex_sha256": doc.source_sha256 if doc.pdf else None,
            "dpi": dpi if "pdf" in j.source or f.image_png else None,
        },
        "license": license,
        "graphics": f.graphics,
        "pdf_caption": j.pdf_caption,
        "alignment_score": j.alignment_score,
        "figure_type_score": score,
        "ocr_boxes": f.ocr_boxes if f.ocr else [],
    }


def process_document(doc: Document, opts: Options) -> Result:
    """All rows of one document. Never raises for bad input."""
    errors: list[dict] = []
    pdf = _pdf_side(doc, opts, errors) if doc.pdf else None
    tex = _latex_side(doc, opts, errors) if doc.source else None
    stem_is_arxiv = arxiv_id_from_name(doc.stem_id) == doc.stem_id
    if pdf and pdf.arxiv_id and doc.paper_id == doc.stem_id and not stem_is_arxiv:
        doc.paper_id = pdf.arxiv_id  # the PDF's arXiv stamp beats a plain file stem
    result = Result(doc.key, doc.paper_id, pages=pdf.pages if pdf else 0)
    if pdf:
        errors += _side_errors(doc, pdf, doc.pdf, doc.pdf_sha256)
    if tex:
        errors += _side_errors(doc, tex, doc.source, doc.source_sha256)
    license = opts.license or (pdf.license if pdf else None) or (tex.license if tex else None)
    seen: set[str] = set()
    for j in join(pdf.floats if pdf else [], tex.floats if tex else []):
        fid = f"{doc.paper_id}/{j.float.kind}{j.float.number}"
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
