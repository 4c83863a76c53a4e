"""What each side of the pipeline hands to the next: plain dataclasses, no logic.

`pdf.extract.extract_pdf` and `latex.extract.extract_latex` each return a `SideResult`;
`join.py` turns one or two of them into `figures` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Float:
    """One figure or table as found on one side (PDF or LaTeX)."""

    kind: str  # "figure" | "table"
    number: str  # as printed: "3", "S2", "A.1", "II"
    caption: str  # with its printed prefix: "Figure 3: ..." (LaTeX side: synthesised "Figure 3: ...")
    caption_no_index: str  # without the prefix
    page: int | None = None  # 1-based, PDF side only
    bbox: tuple[float, float, float, float] | None = None  # PDF points, origin top-left
    image_png: bytes | None = None  # rendered float
    label: str | None = None  # LaTeX \label key
    figure_type: str = "other"  # a class of scitune.schemas.taxonomy.FIGURE_TYPES
    figure_type_score: float | None = None  # the classifier's confidence in figure_type
    ocr: list[str] = field(default_factory=list)  # words inside the float
    ocr_boxes: list[list[float]] = field(default_factory=list)  # [x0, y0, x1, y1] in 0-1, aligned with ocr
    ocr_source: str | None = None  # "text_layer" | "ocr" | "mixed" | "latex"
    paragraphs: list[str] = field(default_factory=list)  # body paragraphs that mention it
    mentions: list[str] = field(default_factory=list)  # the mentioning sentences
    subfigures: list[dict] = field(default_factory=list)  # {"label": str|None, "caption": str}
    graphics: list[str] = field(default_factory=list)  # LaTeX source files behind it
    # what the figure-type classifier reads (scitune.curate.figure_types.signals); both sides add theirs
    type_signals: dict = field(default_factory=dict)
    region_source: str | None = None  # PDF side: "rules" or "layout_model" (how the region was found)


@dataclass
class FloatError:
    """A problem with one float or one page; the rest of the document is kept."""

    stage: str  # a key of scitune.schemas.errors.ERROR_STAGES ("float", "page", "render", ...)
    error: str  # short code, e.g. "no_graphic", "PageRenderError"
    message: str  # what happened and what the user can do
    kind: str | None = None
    number: str | None = None


@dataclass
class SideResult:
    """Everything one side found in one document."""

    floats: list[Float] = field(default_factory=list)
    errors: list[FloatError] = field(default_factory=list)
    pages: int = 0  # PDF pages processed (0 on the LaTeX side)
    layout_model_pages: int = 0  # PDF pages on which the layout model gave a second opinion
    arxiv_id: str | None = None  # with version when known, e.g. "2307.01139v2"
    license: str | None = None  # normalised licence when the document states one
