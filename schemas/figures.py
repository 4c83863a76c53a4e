"""Schema version 2 of the `figures` rows: one row per figure or table.

Column meanings are in `FIGURE_COLUMNS` (rendered into the README and the dataset card);
the names and types that outside checks rely on are fixed by ../shared/design/contract.md.
"""

from datasets import Features, Image, List, Value

KINDS = ("figure", "table")
SOURCES = ("pdf", "latex", "pdf+latex")
OCR_SOURCES = ("text_layer", "ocr", "mixed", "latex")
REGION_SOURCES = ("rules", "layout_model")

PROVENANCE = {
    "input": Value("string"),
    "sha256": Value("string"),
    "extractor": Value("string"),
    "schema_version": Value("int32"),
    "latex_input": Value("string"),
    "latex_sha256": Value("string"),
    "dpi": Value("int32"),
}

# arXiv metadata of the paper (null when none was joined): `download` writes it, `extract` joins it.
PAPER = {
    "title": Value("string"),
    "authors": List(Value("string")),
    "abstract": Value("string"),
    "categories": List(Value("string")),
    "published": Value("string"),
    "doi": Value("string"),
}

FIGURE_FEATURES = Features(
    {
        "figure_id": Value("string"),
        "paper_id": Value("string"),
        "kind": Value("string"),
        "number": Value("string"),
        "source": Value("string"),
        "page": Value("int32"),
        "bbox": List(Value("float32"), length=4),
        "image": Image(),
        "caption": Value("string"),
        "caption_no_index": Value("string"),
        "label": Value("string"),
        "figure_type": Value("string"),
        "ocr": List(Value("string")),
        "ocr_source": Value("string"),
        "paragraphs": List(Value("string")),
        "mentions": List(Value("string")),
        "subfigures": List({"label": Value("string"), "caption": Value("string")}),
        "provenance": PROVENANCE,
        "license": Value("string"),
        # Additions beyond the contract (schema version 1 allows added columns).
        "graphics": List(Value("string")),
        "subfigure_images": List(Image()),
        "pdf_caption": Value("string"),
        "alignment_score": Value("float32"),
        # Schema version 2 (appended; see the README's "Schema version 2").
        "paper": PAPER,
        "region_source": Value("string"),
        "figure_type_score": Value("float32"),
        "ocr_boxes": List(List(Value("float32"), length=4)),
    }
)

FIGURE_COLUMNS: dict[str, str] = {
    "figure_id": "Unique and stable across re-runs: `{paper_id}/{kind}{number}`.",
    "paper_id": (
        "arXiv id with version when known (file name, bundle or PDF text), else the input's file stem."
    ),
    "kind": "`figure` or `table`.",
    "number": "As printed: `3`, `S2`, `A.1`, `II`.",
    "source": "`pdf`, `latex` or `pdf+latex` (found on both sides and joined).",
    "page": "1-based page of the float in the PDF (null when there is no PDF).",
    "bbox": "`x0, y0, x1, y1` of the float region in PDF points, origin top-left (null without PDF).",
    "image": "The rendered float as PNG.",
    "caption": "The caption as printed, with its prefix (`Figure 3: ...`).",
    "caption_no_index": "The caption without the `Figure 3:` prefix.",
    "label": "LaTeX `\\label` key (null without LaTeX).",
    "figure_type": "One class of the taxonomy in `scitune.schemas.taxonomy`.",
    "ocr": "Words inside the float, in reading order.",
    "ocr_source": "Where `ocr` comes from: `text_layer` (the PDF's text), `ocr` (an OCR engine), `mixed` "
    "(text layer, plus OCR of raster parts that have no text layer) or `latex` (null when empty).",
    "paragraphs": "Body paragraphs that mention the float (the caption itself excluded).",
    "mentions": "The sentences in those paragraphs that mention it.",
    "subfigures": "Panels with their own captions: `{label, caption}`.",
    "provenance": "`input` path as given, its `sha256`, `extractor` version, `schema_version`, "
    "the LaTeX input and hash for joined rows, render `dpi`.",
    "license": "Licence of the paper when known, normalised (`CC-BY-4.0`, `arXiv-nonexclusive-1.0`, ...): "
    "arXiv's record first (`download`'s metadata.jsonl or `--metadata`), then `--default-license`, then a "
    "licence stated on page 1 or in the LaTeX source.",
    "graphics": "Source files behind the float (LaTeX side), relative to the source root.",
    "subfigure_images": (
        "Per-panel images aligned with `subfigures` (LaTeX side; empty when panels have no own file)."
    ),
    "pdf_caption": "For `pdf+latex` rows: the caption as read from the PDF, kept for comparison.",
    "alignment_score": "For `pdf+latex` rows: agreement of the two sides (caption token-F1), 0 to 1.",
    "paper": "arXiv metadata of the paper (null when none was joined): `title`, `authors`, `abstract`, "
    "`categories` (primary first), `published` (date of v1, YYYY-MM-DD), `doi`.",
    "region_source": "How the PDF region (`bbox`) was found: `rules` (captions, graphics and text flow) or "
    "`layout_model` (PyMuPDF's layout model, asked where the rules were unsure); null without a PDF region.",
    "figure_type_score": "Confidence of the classifier in `figure_type`, 0 to 1 (below "
    "`scitune.curate.figure_types.MIN_SCORE` the type is `other`); null for tables.",
    "ocr_boxes": "One box per word of `ocr`, `[x0, y0, x1, y1]` as fractions (0-1) of the figure image, "
    "origin top-left; empty when the words come from LaTeX.",
}

FIGURE_COLUMN_ORDER = list(FIGURE_FEATURES)
assert set(FIGURE_COLUMNS) == set(FIGURE_FEATURES)
