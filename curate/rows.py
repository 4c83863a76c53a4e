"""The rows `extract` writes: one `figures` row per float, one `errors` row per failure.

Their columns are defined once in schemas/ (figures.py, errors.py); writer.py commits them. The
worker (document.py) builds rows here and the runner builds the error rows of failed workers here.
"""

from __future__ import annotations

from ..schemas import SCHEMA_VERSION, extractor_version
from . import ids
from .figure_type import guess_figure_type
from .inputs import Document
from .join import Joined


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


def figure_row(doc: Document, j: Joined, license: str | None, dpi: int) -> dict:
    f = j.float
    return {
        "figure_id": ids.figure_id(doc.paper_id, f.kind, f.number),
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
        # The PDF side guessed with its drawing hints (vector strokes, tick labels), which beat a guess
        # from caption and pixels alone; LaTeX-only floats get the latter.
        "figure_type": f.figure_type
        if j.source != "latex"
        else guess_figure_type(f.kind, f.caption_no_index, f.image_png),
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
        "paper": (doc.metadata or {}).get("paper"),
    }
