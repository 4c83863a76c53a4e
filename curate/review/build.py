"""Write the review site of an OUT folder: one streaming pass over its rows.

The site opens from disk (file://), so it reads no JSON with fetch (browsers refuse that for local
files): every data file is a small script that hands its data to the page. What the page needs at
once is small at any size: `data/summary.js` (counts, charts, papers) and `data/index.js` (a few
integers per row, column by column, for the filters). Card contents come in chunks of
`CHUNK_ROWS` rows (`data/rows-NNNNN.js`), loaded only when a card of that chunk is shown; captions
for search come in the same chunks (`data/captions-NNNNN.js`), loaded on the first search.
Pictures are thumbnails (images.py), loaded lazily by the browser.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from ...schemas import ERROR_STAGES, FIGURE_TYPES, KINDS, SOURCES, extractor_version
from ..writer import shard_paths
from .images import PdfPages, crop_thumbnail

MARKER = ".scitune-review"  # a folder holding this file is a review site `review -o` may replace
CHUNK_ROWS = 200  # rows per data chunk: a page of cards loads one or two chunks of a few hundred kB
# Low confidence, flagged on the card and selectable with the "low confidence" filter:
LOW_TYPE_SCORE = 0.5  # the type classifier gave its class less than even odds
LOW_ALIGNMENT = 0.9  # join.py: the same caption read by PDF and LaTeX stays above 0.9 token-F1
FLAG_LOW_TYPE, FLAG_LOW_ALIGN, FLAG_NO_MENTION, FLAG_NO_IMAGE = 1, 2, 4, 8
COLUMNS = [
    "figure_id",
    "paper_id",
    "kind",
    "number",
    "source",
    "page",
    "bbox",
    "image",
    "caption",
    "label",
    "figure_type",
    "figure_type_score",  # added by a later schema version; shown when present
    "ocr",
    "ocr_source",
    "paragraphs",
    "mentions",
    "subfigures",
    "provenance",
    "license",
    "pdf_caption",
    "alignment_score",
]
BATCH_ROWS = 32  # rows decoded at once (images included): memory stays flat however large OUT is


@dataclass
class ReviewStats:
    rows: int = 0
    papers: int = 0
    errors: int = 0
    chunks: int = 0
    crops: int = 0  # rows with a decodable image
    page_thumbs: int = 0  # rows shown on their page
    no_pdf: dict[str, str] = field(default_factory=dict)  # paper_id -> why its page is not shown
    seconds: float = 0.0

    def lines(self, dest: Path) -> list[str]:
        lines = [
            f"review: {self.rows:,} floats from {self.papers:,} papers, "
            f"{self.errors:,} error {'row' if self.errors == 1 else 'rows'}; "
            f"{self.crops:,} crops, {self.page_thumbs:,} shown on their page ({self.seconds:.1f} s)"
        ]
        if self.no_pdf:
            first = next(iter(self.no_pdf.items()))
            lines.append(
                f"note: {len(self.no_pdf)} papers are shown crop-only (no page thumbnail), e.g. "
                f"{first[0]}: {first[1]}"
            )
        lines.append(f"open {dest / 'index.html'} in a browser (or: scitune-curate review ... --serve)")
        return lines


def _iter_batches(out: Path, table: str, wanted: list[str]):
    """Dict-of-lists batches of the wanted columns; columns a shard lacks come as None."""
    for path in shard_paths(out, table):
        pf = pq.ParquetFile(path)
        present = [c for c in wanted if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=present):
            data = batch.to_pydict()
            for c in wanted:
                data.setdefault(c, [None] * batch.num_rows)
            yield data


def _has_column(out: Path, table: str, column: str) -> bool:
    return any(column in pq.ParquetFile(p).schema_arrow.names for p in shard_paths(out, table))


def _script(path: Path, call: str, *args) -> None:
    """Write data as `call(arg, ...);` JavaScript, which a page opened from disk can load."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in args)
    # `</` inside a string would end a <script> element if the file were ever inlined.
    tmp = path.with_name(f".{path.name}.tmp")
    body = body.replace("</", "<\\/")
    tmp.write_text(f"{call}({body});\n", encoding="utf-8")
    tmp.replace(path)


def _score(value) -> float | None:
    return None if value is None else round(float(value), 3)


class _Vocab:
    """Strings -> small integers, for the column index (the page keeps one list of names)."""

    def __init__(self, first=()):
        self.names: list[str] = list(first)
        self._ids = {n: i for i, n in enumerate(self.names)}

    def __call__(self, name: str | None) -> int:
        name = name or "unknown"
        if name not in self._ids:
            self._ids[name] = len(self.names)
            self.names.append(name)
        return self._ids[name]


def check_destination(dest: Path) -> None:
    """Refuse to write a site into a folder that holds something else (never replace what is not ours)."""
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / MARKER).exists())):
        raise FileExistsError(
            f"{dest} exists and is not a review site written by scitune (no {MARKER} inside): "
            "choose a new or empty folder with -o"
        )


def build_review(
    out: Path,
    dest: Path,
    inputs_root: list[Path] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = False,
) -> ReviewStats:
    """Write the review site of OUT into DEST (see the module doc); returns what was written."""
    start = time.monotonic()
    out, dest = Path(out), Path(dest)
    check_destination(dest)
    if not shard_paths(out, "figures") and not shard_paths(out, "errors"):
        raise FileNotFoundError(
            f"{out} holds no figures or errors shards: run `scitune-curate extract` first"
        )
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MARKER).write_text(json.dumps({"tool": extractor_version()}) + "\n", encoding="utf-8")
    for stale in ("data",):  # data is rewritten whole; thumbnails are content-addressed and kept
        shutil.rmtree(dest / stale, ignore_errors=True)
    static = resources.files("scitune.curate.review") / "static"
    for name in ("index.html", "review.js", "review.css"):
        target = dest / ("index.html" if name == "index.html" else f"assets/{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((static / name).read_bytes())

    stats = ReviewStats()
    pages = PdfPages(dest, [Path.cwd(), *(inputs_root or [])])
    kinds, types, sources = _Vocab(KINDS), _Vocab(FIGURE_TYPES), _Vocab(SOURCES)
    papers = _Vocab()
    index = {k: [] for k in ("kind", "type", "source", "paper", "tscore", "ascore", "flags")}
    per_paper: dict[str, Counter] = defaultdict(Counter)
    paper_pages: dict[str, int | None] = {}
    chunk: list[dict] = []
    captions: list[str] = []

    def flush() -> None:
        nonlocal chunk, captions
        if chunk:
            _script(dest / "data" / f"rows-{stats.chunks:05d}.js", "SCITUNE.chunk", stats.chunks, chunk)
            _script(
                dest / "data" / f"captions-{stats.chunks:05d}.js", "SCITUNE.captions", stats.chunks, captions
            )
            stats.chunks += 1
        chunk, captions = [], []

    bar = None
    if progress:
        total = sum(pq.ParquetFile(p).metadata.num_rows for p in shard_paths(out, "figures"))
        bar = tqdm(total=total, unit=" rows", desc="review", dynamic_ncols=True)
    try:
        for b in _iter_batches(out, "figures", COLUMNS):
            for i in range(len(b["figure_id"])):
                row = {c: b[c][i] for c in COLUMNS}
                chunk.append(_card(row, dest, pages, stats, paper_pages))
                captions.append((row["caption"] or "").lower())
                paper = row["paper_id"] or "unknown"
                tscore, ascore = _score(row["figure_type_score"]), _score(row["alignment_score"])
                flags = 0
                if tscore is not None and tscore < LOW_TYPE_SCORE:
                    flags |= FLAG_LOW_TYPE
                if ascore is not None and ascore < LOW_ALIGNMENT:
                    flags |= FLAG_LOW_ALIGN
                if not row["mentions"]:
                    flags |= FLAG_NO_MENTION
                if chunk[-1]["crop"] is None:
                    flags |= FLAG_NO_IMAGE
                index["kind"].append(kinds(row["kind"]))
                index["type"].append(types(row["figure_type"]))
                index["source"].append(sources(row["source"]))
                index["paper"].append(papers(paper))
                index["tscore"].append(-1 if tscore is None else round(tscore * 100))
                index["ascore"].append(-1 if ascore is None else round(ascore * 100))
                index["flags"].append(flags)
                per_paper[paper][row["kind"] or "unknown"] += 1
                stats.rows += 1
                if len(chunk) >= chunk_rows:
                    flush()
                if bar is not None:
                    bar.update(1)
        flush()
    finally:
        pages.close()
        if bar is not None:
            bar.close()

    errors, errors_by_paper = _error_groups(out)
    stats.errors = sum(g["count"] for g in errors)
    paper_list = [
        {
            "id": name,
            "figures": per_paper[name]["figure"],
            "tables": per_paper[name]["table"],
            "pages": paper_pages.get(name),
            "errors": errors_by_paper.get(name, 0),
            "thumbs": name not in stats.no_pdf,
        }
        for name in papers.names
    ]
    stats.papers = len(paper_list)
    summary = {
        "dataset": str(out),  # as the user named it, for the header
        "datasetKey": str(out.resolve()),  # where the page keeps this dataset's reject marks
        "tool": extractor_version(),
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "rows": stats.rows,
        "chunkRows": chunk_rows,
        "chunks": stats.chunks,
        "vocab": {"kind": kinds.names, "type": types.names, "source": sources.names, "paper": papers.names},
        "hasTypeScore": _has_column(out, "figures", "figure_type_score"),
        "thresholds": {"typeScore": LOW_TYPE_SCORE, "alignment": LOW_ALIGNMENT},
        "papers": paper_list,
        "noPdf": stats.no_pdf,
        "errors": {"rows": stats.errors, "groups": len(errors)},
        "stages": ERROR_STAGES,
    }
    _script(dest / "data" / "summary.js", "SCITUNE.summary", summary)
    _script(dest / "data" / "index.js", "SCITUNE.index", index)
    _script(dest / "data" / "errors.js", "SCITUNE.errors", errors)
    stats.seconds = time.monotonic() - start
    return stats


def _card(row: dict, dest: Path, pages: PdfPages, stats: ReviewStats, paper_pages: dict) -> dict:
    """What one card shows (plain JSON)."""
    prov = row["provenance"] or {}
    image = row["image"] or {}
    crop = crop_thumbnail(image.get("bytes"), dest)
    stats.crops += crop is not None
    paper = row["paper_id"] or "unknown"
    page_thumb = None
    if row["page"] and row["bbox"]:
        pdf = pages.locate(prov.get("input"), prov.get("sha256"))
        if pdf is not None:
            if paper not in paper_pages:
                paper_pages[paper] = pages.page_count(pdf, prov["sha256"] or "")
            page_thumb = pages.thumbnail(pdf, prov.get("sha256") or "", row["page"])
        elif paper not in stats.no_pdf:
            stats.no_pdf[paper] = pages.why_missing(prov.get("input"), prov.get("sha256"))
    stats.page_thumbs += page_thumb is not None
    caption = row["caption"] or ""
    pdf_caption = row["pdf_caption"]
    return {
        "id": row["figure_id"],
        "paper": paper,
        "kind": row["kind"],
        "number": row["number"],
        "source": row["source"],
        "page": row["page"],
        "bbox": [round(v, 1) for v in row["bbox"]] if row["bbox"] else None,
        "crop": None if crop is None else {"src": crop.path, "w": crop.width, "h": crop.height},
        "pageImg": None
        if page_thumb is None
        else {"src": page_thumb.path, "w": round(page_thumb.width, 1), "h": round(page_thumb.height, 1)},
        "caption": caption,
        "pdfCaption": pdf_caption if pdf_caption and pdf_caption != caption else None,
        "label": row["label"],
        "type": row["figure_type"],
        "typeScore": _score(row["figure_type_score"]),
        "alignment": _score(row["alignment_score"]),
        "ocr": row["ocr"] or [],
        "ocrSource": row["ocr_source"],
        "mentions": row["mentions"] or [],
        "paragraphs": len(row["paragraphs"] or []),
        "subfigures": [s.get("label") or "" for s in row["subfigures"] or []],
        "input": prov.get("input"),
        "latexInput": prov.get("latex_input"),
        "license": row["license"],
    }


ERROR_INPUTS_KEPT = 500  # inputs listed per (stage, reason) group on the page; the count is always exact


def _error_groups(out: Path) -> tuple[list[dict], Counter]:
    """Error rows grouped by stage and reason (the `error` code), largest group first; errors per paper."""
    groups: dict[tuple[str, str], dict] = {}
    per_paper: Counter = Counter()
    for b in _iter_batches(out, "errors", ["input", "paper_id", "figure_id", "stage", "error", "message"]):
        for i in range(len(b["stage"])):
            key = (b["stage"][i] or "unknown", b["error"][i] or "unknown")
            g = groups.setdefault(key, {"stage": key[0], "error": key[1], "count": 0, "rows": []})
            g["count"] += 1
            per_paper[b["paper_id"][i] or b["input"][i]] += 1
            if len(g["rows"]) < ERROR_INPUTS_KEPT:
                g["rows"].append(
                    {
                        "input": b["input"][i],
                        "paper": b["paper_id"][i],
                        "figure": b["figure_id"][i],
                        "message": b["message"][i],
                    }
                )
    return sorted(groups.values(), key=lambda g: (-g["count"], g["stage"], g["error"])), per_paper
