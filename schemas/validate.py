"""Row and folder validation, shared by the writer, `scitune-curate validate` and the tests.

`validate_row` returns a list of problems (empty when the row obeys the schema);
`validate_folder` streams every Parquet shard of an OUT folder batch by batch, so memory
stays flat however large the dataset is.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ERROR_FEATURES, ERROR_STAGES
from .figures import FIGURE_FEATURES, KINDS, OCR_SOURCES, REGION_SOURCES, SOURCES
from .instructions import IMAGE_TOKEN, INSTRUCTION_FEATURES, PART_TYPES, count_images
from .taxonomy import FIGURE_TYPES

FEATURES = {"figures": FIGURE_FEATURES, "errors": ERROR_FEATURES, "instructions": INSTRUCTION_FEATURES}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# Text commands that must never survive into plain-text fields. Math commands such as
# \alpha are allowed: the contract lets math stay as its source text.
LATEX_MARKUP = re.compile(
    r"\\(?:cite[pt]?|citep|citet|ref|eqref|autoref|cref|Cref|label|textbf|textit|emph|"
    r"includegraphics|caption|begin|end|footnote|url|href|section|subsection)\b\s*[\[{]"
)
ROLES = {"system", "user", "assistant"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An image with a side under 20 px is a strip (a rule, one line of text), not a float: the size below
# which the PDF side's region check (curate/pdf/checks.py) refuses a region too.
MIN_IMAGE_SIDE = 20


def _is_image(value) -> bool:
    """PNG or JPEG bytes, raw (rows before encoding) or as datasets stores them ({"bytes", "path"})."""
    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, (bytes, bytearray)):
        return False
    return data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC)


def _image_size(value) -> tuple[int, int] | None:
    """Width and height from the PNG header or the JPEG frame header (None when unreadable)."""
    data = bytes(value.get("bytes") if isinstance(value, dict) else value)
    if data.startswith(PNG_MAGIC) and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    stream = io.BytesIO(data[2:])
    while True:  # JPEG: walk the segments to the start-of-frame marker
        head = stream.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker, length = head[1], int.from_bytes(head[2:4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = stream.read(5)  # precision, height, width
            if len(frame) < 5:
                return None
            return int.from_bytes(frame[3:5], "big"), int.from_bytes(frame[1:3], "big")
        stream.seek(length - 2, 1)


def _text_problems(name: str, text: str | None) -> list[str]:
    if text and LATEX_MARKUP.search(text):
        return [f"{name} still holds LaTeX markup: {LATEX_MARKUP.search(text).group(0)!r}"]
    return []


def _figure_problems(row: dict) -> list[str]:
    p: list[str] = []
    for col in ("figure_id", "paper_id", "kind", "number", "source", "caption", "figure_type"):
        if not row.get(col):
            p.append(f"{col} is empty")
    if row.get("kind") not in KINDS:
        p.append(f"kind {row.get('kind')!r} not in {KINDS}")
    if row.get("source") not in SOURCES:
        p.append(f"source {row.get('source')!r} not in {SOURCES}")
    if row.get("figure_type") not in FIGURE_TYPES:
        p.append(f"figure_type {row.get('figure_type')!r} is not in the taxonomy")
    expected_id = f"{row.get('paper_id')}/{row.get('kind')}{row.get('number')}"
    if row.get("figure_id") != expected_id:
        p.append(f"figure_id {row.get('figure_id')!r} should be {expected_id!r}")
    if not _is_image(row.get("image")):
        p.append("image is missing or not PNG/JPEG bytes")
    else:
        size = _image_size(row["image"])
        if size and min(size) < MIN_IMAGE_SIDE:
            p.append(f"image is degenerate ({size[0]} x {size[1]} px, a side under {MIN_IMAGE_SIDE} px)")
    if row.get("region_source") not in (None, *REGION_SOURCES):
        p.append(f"region_source {row.get('region_source')!r} not in {REGION_SOURCES}")
    if row.get("region_source") and row.get("bbox") is None:
        p.append("region_source set on a row without a PDF region (bbox)")
    if "pdf" in str(row.get("source")).split("+"):
        if row.get("page") is None or row["page"] < 1:
            p.append("page must be >= 1 for PDF rows")
    bbox = row.get("bbox")
    if bbox is not None and (len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3])):
        p.append(f"bbox {bbox!r} must be x0 < x1, y0 < y1")
    caption, bare = row.get("caption") or "", row.get("caption_no_index")
    if bare is None:
        p.append("caption_no_index is null")
    elif bare.strip() and bare.strip() not in caption:
        p.append("caption_no_index is not part of caption")
    if row.get("ocr") and row.get("ocr_source") not in OCR_SOURCES:
        p.append(f"ocr_source {row.get('ocr_source')!r} not in {OCR_SOURCES}")
    boxes, words = row.get("ocr_boxes") or [], row.get("ocr") or []
    if row.get("ocr_source") in ("text_layer", "ocr", "mixed") and len(boxes) != len(words):
        p.append(f"ocr_boxes has {len(boxes)} boxes for {len(words)} ocr words")
    for box in boxes:
        if len(box) != 4 or not (0 <= box[0] <= box[2] <= 1 and 0 <= box[1] <= box[3] <= 1):
            p.append(f"ocr_boxes {list(box)!r} must be 0 <= x0 <= x1 <= 1, 0 <= y0 <= y1 <= 1")
            break
    score = row.get("figure_type_score")
    if score is not None and not 0 <= score <= 1:
        p.append(f"figure_type_score {score!r} must be within 0 and 1")
    if len(row.get("mentions") or []) and not row.get("paragraphs"):
        p.append("mentions without paragraphs")
    prov = row.get("provenance") or {}
    for key in ("input", "sha256", "extractor", "schema_version"):
        if prov.get(key) in (None, ""):
            p.append(f"provenance.{key} is missing")
    p += _paper_problems(row.get("paper"))
    for col in ("caption", "caption_no_index"):
        p += _text_problems(col, row.get(col))
    for col in ("paragraphs", "mentions"):
        for text in row.get(col) or []:
            p += _text_problems(col, text)
    return p


def _paper_problems(paper: dict | None) -> list[str]:
    """The `paper` struct (schema version 2): null, or arXiv metadata with at least a title."""
    if paper is None:
        return []
    p = []
    if not (paper.get("title") or "").strip():
        p.append("paper.title is empty")
    published = paper.get("published")
    if published is not None and not ISO_DATE.match(published):
        p.append(f"paper.published {published!r} is not a YYYY-MM-DD date")
    if not all(isinstance(a, str) and a.strip() for a in paper.get("authors") or []):
        p.append("paper.authors holds an empty name")
    return p


def _error_problems(row: dict) -> list[str]:
    p = [f"{c} is empty" for c in ("input", "stage", "error", "message") if not row.get(c)]
    if row.get("stage") not in ERROR_STAGES:
        p.append(f"stage {row.get('stage')!r} not in {sorted(ERROR_STAGES)}")
    return p


def _instruction_problems(row: dict) -> list[str]:
    p = [f"{c} is empty" for c in ("id", "figure_id", "task") if not row.get(c)]
    messages = row.get("messages") or []
    if len(messages) < 2:
        p.append("messages needs at least a user and an assistant turn")
    n_slots = 0
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            p.append(f"message role {role!r} not in {sorted(ROLES)}")
        if isinstance(content, str):
            p.append(f"{role} content is a string (schema version 1): run `scitune-curate instructions`")
            continue
        parts = content or []
        for part in parts:
            if part.get("type") not in PART_TYPES:
                p.append(f"{role} content part type {part.get('type')!r} not in {PART_TYPES}")
            elif part["type"] == "text" and not (part.get("text") or "").strip():
                p.append(f"empty text part in a {role} message")
            elif part["type"] == "text" and IMAGE_TOKEN in part["text"]:
                p.append(f"a {role} text part holds a literal {IMAGE_TOKEN}: images are image parts")
            elif part["type"] == "image" and part.get("text") is not None:
                p.append(f"an image part of a {role} message carries text")
        if not any(part.get("type") == "text" for part in parts):
            p.append(f"empty {role} message")
        slots = count_images(parts)
        if slots and role != "user":
            p.append(f"an image part in a {role} message")
        n_slots += slots
    if messages and messages[-1].get("role") != "assistant":
        p.append("the last message must be the assistant's")
    images = row.get("images") or []
    if n_slots != len(images):
        p.append(f"{n_slots} image parts but {len(images)} images")
    if not all(_is_image(im) for im in images):
        p.append("an image is not PNG/JPEG bytes")
    return p


CHECKS = {"figures": _figure_problems, "errors": _error_problems, "instructions": _instruction_problems}


def validate_row(row: dict, table: str = "figures") -> list[str]:
    """Problems of one row of `table` (`figures`, `errors`, `instructions`); empty when valid."""
    missing = [c for c in FEATURES[table] if c not in row]
    if missing:
        return [f"missing columns: {missing}"]
    return CHECKS[table](row)


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _schema_problems(path: Path, schema: pa.Schema, table: str) -> list[str]:
    expected = FEATURES[table].arrow_schema
    p = []
    for f in expected:
        if f.name not in schema.names:
            p.append(f"{path}: column {f.name!r} missing")
        elif not schema.field(f.name).type.equals(f.type):
            p.append(f"{path}: column {f.name!r} is {schema.field(f.name).type}, expected {f.type}")
            if table == "instructions" and f.name == "messages":
                p.append(f"{path}: schema version 1 instructions; rebuild: `scitune-curate instructions OUT`")
    if b"huggingface" not in (schema.metadata or {}):
        p.append(f"{path}: no `huggingface` features metadata (images would not decode)")
    return p


def _damaged(table: str, path: Path, e: Exception) -> str:
    return (
        f"{table}/{path.name}: damaged shard, not readable ({e}); re-run the same `extract` command "
        "to redo its inputs"
    )


def _rows_of(pf: pq.ParquetFile, table: str, path: Path, report: Report):
    """Rows in small batches (images a few at a time); a shard damaged mid-way ends as one problem."""
    try:
        for batch in pf.iter_batches(batch_size=64):
            yield batch.to_pylist()
    except (OSError, pa.ArrowException) as e:
        report.problems.append(_damaged(table, path, e))


def validate_folder(out: str | Path, max_problems: int = 200) -> Report:
    """Check every shard under OUT/{figures,errors,instructions} and the dataset card."""
    out = Path(out)
    report = Report()
    if not (out / "figures").is_dir():
        report.problems.append(f"{out}/figures/ does not exist: is this an extract output folder?")
        return report
    seen_ids: dict[str, set[str]] = {"figures": set(), "instructions": set()}
    id_col = {"figures": "figure_id", "instructions": "id"}
    for table in FEATURES:
        report.rows[table] = 0
        for path in sorted((out / table).glob("*.parquet")):
            try:
                pf = pq.ParquetFile(path)
            except (OSError, pa.ArrowException) as e:  # a truncated copy, a disk error: name it, go on
                report.problems.append(_damaged(table, path, e))
                continue
            report.problems += _schema_problems(path, pf.schema_arrow, table)
            for batch in _rows_of(pf, table, path, report):
                for row in batch:
                    report.rows[table] += 1
                    where = f"{path.name} row {report.rows[table] - 1}"
                    for problem in validate_row(row, table):
                        report.problems.append(
                            f"{table}/{where} ({row.get(id_col.get(table, 'input'))}): {problem}"
                        )
                    if table in id_col:
                        key = row.get(id_col[table])
                        if key in seen_ids[table]:
                            report.problems.append(f"{table}/{where}: duplicate id {key!r}")
                        seen_ids[table].add(key)
                if len(report.problems) > max_problems:
                    report.problems.append("... (stopped after too many problems)")
                    return report
    card = out / "README.md"
    if not card.is_file():
        report.problems.append(f"{card} is missing: `load_dataset(OUT, 'figures')` needs its `configs:`")
    elif "configs:" not in card.read_text(encoding="utf-8"):
        report.problems.append(f"{card} has no `configs:` section")
    return report
