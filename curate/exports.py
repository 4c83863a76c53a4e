"""Exports of an OUT folder to the formats other trainers and benchmarks read.

- `llava`: LLaVA conversation JSON (`DEST/llava.json`, a list of `{"id", "image", "conversations":
  [{"from": "human", ...}, {"from": "gpt", ...}]}`) plus `DEST/images/`; train with
  `--data_path DEST/llava.json --image_folder DEST/images`.
- `messages`: TRL's native vision SFT form (as in HuggingFaceH4/llava-instruct-mix-vsft): Parquet shards
  under `DEST/data/` with `images` and `messages` whose `content` is a list of `{type, text, index}`
  parts; `load_dataset(DEST)` reads it.
- `prompt-completion`: `DEST/prompt_completion.jsonl` with `{"id", "images", "prompt", "completion"}`
  (image paths relative to DEST) plus `DEST/images/`.
- `scicap`: SciCap Challenge COCO-style JSON (`DEST/scicap.json`: `images` with `file_name, id,
  figure_type, ocr` and `annotations` with `image_id, id, caption, caption_no_index, paragraph,
  mention`), figure types folded with `SCICAP_TYPE_MAP`, plus `DEST/images/`.

The first three read `OUT/instructions` (build it with `scitune-curate instructions OUT`); `scicap`
reads `OUT/figures`. Everything streams row by row; JSON files are written to a temp name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Features, Image, List, Value

from ..schemas import SCICAP_TYPE_MAP
from .arxiv.licenses import allows
from .filters import count_rows, iter_rows

FORMATS = ("llava", "messages", "prompt-completion", "scicap")
IMAGE_TAG = "<image>"
SAFE = re.compile(r"[^A-Za-z0-9._-]+")

# TRL's native vision chat rows: text and image parts in order, `index` pointing into `images`.
MESSAGES_FEATURES = Features(
    {
        "id": Value("string"),
        "images": List(Image()),
        "messages": List(
            {
                "role": Value("string"),
                "content": List({"type": Value("string"), "text": Value("string"), "index": Value("int64")}),
            }
        ),
    }
)


@dataclass
class ExportStats:
    format: str
    rows: int = 0
    images: int = 0
    by_task: Counter = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        tasks = ", ".join(f"{t}: {n:,}" for t, n in sorted(self.by_task.items()))
        return [
            f"export {self.format}: {self.rows:,} rows, {self.images:,} images -> "
            + ", ".join(str(p) for p in self.files)
            + (f" ({tasks})" if tasks else "")
        ]


class NothingToExport(ValueError):
    pass


def image_name(figure_id: str, data: bytes) -> str:
    """A file name for a figure's image: readable, unique per figure_id, extension from the bytes."""
    safe = SAFE.sub("_", figure_id.replace("/", "__"))
    if safe != figure_id.replace("/", "__"):  # sanitising could merge two ids: keep them apart
        safe += "-" + hashlib.sha1(figure_id.encode()).hexdigest()[:8]
    return safe + (".jpg" if data[:3] == b"\xff\xd8\xff" else ".png")


class ImageFolder:
    """Writes each figure image once under DEST/images and returns its name."""

    def __init__(self, dest: Path):
        self.folder = Path(dest) / "images"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: set[str] = set()

    def save(self, figure_id: str, image: dict) -> str:
        name = image_name(figure_id, image["bytes"])
        if name not in self.written:
            (self.folder / name).write_bytes(image["bytes"])
            self.written.add(name)
        return name


@contextmanager
def atomic_text(path: Path):
    """Open a temp file beside `path` for writing; rename it onto `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def instruction_rows(
    out: Path, tasks: Iterable[str] | None, progress: bool, licenses: set[str] | None = None
) -> Iterator[dict]:
    if not count_rows(out, "instructions"):
        raise NothingToExport(
            f"{out}/instructions has no rows: run `scitune-curate instructions {out}` first"
        )
    wanted = set(tasks) if tasks else None
    for row in iter_rows(out, "instructions", progress=progress, desc="export"):
        if (wanted is None or row["task"] in wanted) and allows(licenses, row.get("license")):
            yield row


def _turns(row: dict) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in row["messages"]]


def export_llava(
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """LLaVA conversation JSON + images (one image per record, as LLaVA expects)."""
    stats, images = ExportStats("llava"), ImageFolder(dest)
    path = Path(dest) / "llava.json"
    roles = {"user": "human", "assistant": "gpt", "system": "system"}
    with atomic_text(path) as f:
        f.write("[")
        for row in instruction_rows(out, tasks, progress, licenses):
            record = {"id": row["id"]}
            if row["images"]:
                record["image"] = images.save(row["figure_id"], row["images"][0])
            record["conversations"] = [{"from": roles[r], "value": c} for r, c in _turns(row)]
            f.write(("," if stats.rows else "") + "\n" + json.dumps(record, ensure_ascii=False))
            stats.rows += 1
            stats.by_task[row["task"]] += 1
        f.write("\n]\n")
    stats.images, stats.files = len(images.written), [path, images.folder]
    return stats


def _content_parts(text: str, first_index: int) -> tuple[list[dict], int]:
    """Split a turn at `<image>` tags into TRL content parts; returns the parts and the next image index."""
    parts, index = [], first_index
    for i, piece in enumerate(text.split(IMAGE_TAG)):
        if i:
            parts.append({"type": "image", "text": None, "index": index})
            index += 1
        piece = piece.strip("\n")
        if piece:
            parts.append({"type": "text", "text": piece, "index": None})
    return parts, index


def messages_row(row: dict) -> dict:
    """One instruction row in TRL's native vision chat form."""
    messages, index = [], 0
    for role, content in _turns(row):
        parts, index = _content_parts(content, index)
        messages.append({"role": role, "content": parts})
    return {"id": row["id"], "images": row["images"], "messages": messages}


def export_messages(
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """TRL `messages` + `images` as Parquet under DEST/data, with a card so `load_dataset(DEST)` works."""
    from .writer import write_table

    stats = ExportStats("messages")

    def rows() -> Iterator[dict]:
        for row in instruction_rows(out, tasks, progress, licenses):
            stats.rows += 1
            stats.images += len(row["images"])
            stats.by_task[row["task"]] += 1
            yield messages_row(row)

    shards = write_table(rows(), Path(dest) / "data", MESSAGES_FEATURES, prefix="train")
    card = Path(dest) / "README.md"
    # download_size keys datasets' cache of this folder (see card.py), so a re-export is not shadowed.
    size = sum(p.stat().st_size for p in shards)
    with atomic_text(card) as f:
        f.write(
            "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/*.parquet\n"
            f"dataset_info:\n  download_size: {size}\n---\n\nscitune instructions in TRL's vision chat form "
            f"(`messages` + `images`); exported from `{out}` by `scitune-curate export messages`.\n"
        )
    stats.files = [Path(dest) / "data", card]
    return stats


def export_prompt_completion(
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """JSONL of `{"id", "images", "prompt", "completion"}`; multi-turn rows keep all but the last answer
    in the prompt as `role: text` lines."""
    stats, images = ExportStats("prompt-completion"), ImageFolder(dest)
    path = Path(dest) / "prompt_completion.jsonl"
    with atomic_text(path) as f:
        for row in instruction_rows(out, tasks, progress, licenses):
            turns = _turns(row)
            *context, (_, completion) = turns
            if len(context) == 1:
                prompt = context[0][1]
            else:
                prompt = "\n".join(f"{role}: {text}" for role, text in context)
            names = [f"images/{images.save(row['figure_id'], im)}" for im in row["images"][:1]]
            record = {"id": row["id"], "images": names, "prompt": prompt, "completion": completion}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            stats.rows += 1
            stats.by_task[row["task"]] += 1
    stats.images, stats.files = len(images.written), [path, images.folder]
    return stats


def mention_groups(paragraphs: list[str], mentions: list[str]) -> list[list[str]]:
    """SciCap's `mention`: per paragraph, the mentioning sentences found in it."""
    groups = [[m for m in mentions if m and m in p] for p in paragraphs]
    placed = {m for g in groups for m in g}
    stray = [m for m in mentions if m and m not in placed]
    return groups + ([stray] if stray else [])


def export_scicap(
    out: Path, dest: Path, progress: bool = False, licenses: set[str] | None = None
) -> ExportStats:
    """SciCap Challenge COCO-style JSON + images, from OUT/figures."""
    if not count_rows(out, "figures"):
        raise NothingToExport(f"{out}/figures has no rows: run `scitune-curate extract ... -o {out}` first")
    stats, images = ExportStats("scicap"), ImageFolder(dest)
    path = Path(dest) / "scicap.json"
    annotations = path.with_name(f".{path.name}.annotations.tmp")
    try:
        # Two arrays are streamed at once: images into the output, annotations into a side file.
        with atomic_text(path) as f, open(annotations, "w", encoding="utf-8") as a:
            f.write('{"info": {"description": "scitune figures in SciCap Challenge format"},\n"images": [')
            for n, fig in enumerate(iter_rows(out, "figures", progress=progress, desc="export"), start=1):
                if not (fig.get("image") or {}).get("bytes") or not allows(licenses, fig.get("license")):
                    continue
                sep = "," if stats.rows else ""
                image = {
                    "file_name": images.save(fig["figure_id"], fig["image"]),
                    "id": n,
                    "figure_type": SCICAP_TYPE_MAP.get(fig.get("figure_type"), "Other"),
                    "ocr": fig.get("ocr") or [],
                    "figure_id": fig["figure_id"],
                    "paper_id": fig["paper_id"],
                    "scitune_figure_type": fig.get("figure_type"),
                    "license": fig.get("license"),
                }
                paragraphs = fig.get("paragraphs") or []
                annotation = {
                    "image_id": n,
                    "id": n,
                    "caption": fig.get("caption") or "",
                    "caption_no_index": fig.get("caption_no_index") or "",
                    "paragraph": paragraphs,
                    "mention": mention_groups(paragraphs, fig.get("mentions") or []),
                }
                f.write(sep + "\n" + json.dumps(image, ensure_ascii=False))
                a.write(sep + "\n" + json.dumps(annotation, ensure_ascii=False))
                stats.rows += 1
            a.close()
            f.write('\n],\n"annotations": [')
            with open(annotations, encoding="utf-8") as a_in:
                for line in a_in:
                    f.write(line)
            f.write("\n]}\n")
    finally:
        annotations.unlink(missing_ok=True)
    stats.images, stats.files = len(images.written), [path, images.folder]
    return stats


def export(
    fmt: str,
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """Dispatch on the format name used by `scitune-curate export FORMAT`; `licenses` (normalised ids,
    `unknown` for rows without one) keeps only rows under those licences."""
    out, dest = Path(out), Path(dest)
    if fmt == "llava":
        return export_llava(out, dest, tasks, progress, licenses)
    if fmt == "messages":
        return export_messages(out, dest, tasks, progress, licenses)
    if fmt == "prompt-completion":
        return export_prompt_completion(out, dest, tasks, progress, licenses)
    if fmt == "scicap":
        return export_scicap(out, dest, progress, licenses)
    raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
