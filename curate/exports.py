"""Exports of an OUT folder to the formats other trainers and benchmarks read.

Every export loads from any working directory: Parquet exports embed the images; JSON exports name
images by paths relative to the image folder they ship with (the only form their readers take).

- `llava`: LLaVA conversation JSON (`DEST/llava.json`, a list of `{"id", "image", "conversations":
  [{"from": "human", ...}, {"from": "gpt", ...}]}`, exactly one `<image>` in the first human turn)
  plus `DEST/images/`; train with `--data_path DEST/llava.json --image_folder DEST/images`.
- `messages`: TRL's vision SFT form: Parquet shards under `DEST/data/` with `images` (embedded) and
  `messages` whose `content` is a list of `{"type": "text", "text"}` / `{"type": "image"}` parts (the
  stored instruction rows, schema version 2); `load_dataset(DEST)` reads it.
- `prompt-completion`: TRL's conversational prompt-completion form: Parquet under `DEST/data/` with
  `images` (embedded), `prompt` (the turns before the last answer) and `completion` (the last
  answer), content as parts; no model-specific placeholder such as LLaVA's `<image>` in the text.
- `scicap`: SciCap Challenge COCO-style JSON (`DEST/scicap.json`: `images` with `file_name, id,
  figure_type, ocr` and `annotations` with `image_id, id, caption, caption_no_index, paragraph,
  mention`) plus `DEST/images/`. The Challenge baseline reads `paragraph[0]`, so a figure without a
  mention paragraph (or without caption text) is left out and counted.
- `scicap-2021`: the original SciCap release layout, one JSON per figure with its keys as published
  (`SciCap-Caption-All/train/{figure}.json`, images under `SciCap-{No,Yes}-Subfig-Img/train/`).

The first three read `OUT/instructions` (build it with `scitune-curate instructions OUT`); the SciCap
layouts read `OUT/figures`. Each export folder is a Hub dataset with its own card (licence,
features, configs, task categories, citation) when the Hub can read its files. Everything streams
row by row; JSON files are written to a temp name and renamed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Features, List, Value
from PIL import Image

from ..schemas import IMAGE_TOKEN, INSTRUCTION_FEATURES, SCICAP_TYPE_MAP, content_text, count_images
from .arxiv.licenses import allows
from .card import write_export_card
from .filters import count_rows, iter_rows
from .writer import write_table

FORMATS = ("llava", "messages", "prompt-completion", "scicap", "scicap-2021")
SAFE = re.compile(r"[^A-Za-z0-9._-]+")
SCICAP_SPLIT = "train"  # the 2021 release's split folders are train/val/test; we write one split

# The row-level columns every Parquet export keeps besides its training columns: which figure and
# paper a row came from and under which licence it may be reused (trainers ignore extra columns).
KEPT = ("id", "figure_id", "task", "license")
MESSAGES_FEATURES = Features(
    {**{c: INSTRUCTION_FEATURES[c] for c in KEPT}, "images": INSTRUCTION_FEATURES["images"]}
    | {"messages": INSTRUCTION_FEATURES["messages"]}
)
PROMPT_COMPLETION_FEATURES = Features(
    {**{c: INSTRUCTION_FEATURES[c] for c in KEPT}, "images": INSTRUCTION_FEATURES["images"]}
    | {"prompt": INSTRUCTION_FEATURES["messages"], "completion": INSTRUCTION_FEATURES["messages"]}
)
LLAVA_FEATURES = Features(
    {
        "id": Value("string"),
        "image": Value("string"),
        "conversations": List({"from": Value("string"), "value": Value("string")}),
    }
)


# The Challenge JSON's two arrays, each a config of the export's card (`field` tells the JSON builder).
SCICAP_IMAGE_FEATURES = Features(
    {
        "file_name": Value("string"),
        "id": Value("int64"),
        "figure_type": Value("string"),
        "ocr": List(Value("string")),
        "figure_id": Value("string"),
        "paper_id": Value("string"),
        "scitune_figure_type": Value("string"),
        "license": Value("string"),
    }
)
SCICAP_ANNOTATION_FEATURES = Features(
    {
        "image_id": Value("int64"),
        "id": Value("int64"),
        "caption": Value("string"),
        "caption_no_index": Value("string"),
        "paragraph": List(Value("string")),
        "mention": List(List(Value("string"))),
    }
)


_SCICAP_LEVEL = {
    "caption": Value("string"),
    "sentence": List(Value("string")),
    "token": List(Value("string")),
}
SCICAP_2021_FEATURES = Features(
    {
        "contains-subfigure": Value("bool"),
        "Img-text": List(Value("string")),
        "paper-ID": Value("string"),
        "figure-ID": Value("string"),
        "figure-type": Value("string"),
        "0-originally-extracted": Value("string"),
        "1-lowercase-and-token-and-remove-figure-index": _SCICAP_LEVEL,
        "2-normalized": {
            "2-1-basic-num": _SCICAP_LEVEL,
            "2-2-advanced-euqation-bracket": {
                "caption": Value("string"),
                "sentence": List(Value("string")),
                "tokens": List(Value("string")),
            },
        },
    }
)


@dataclass
class ExportStats:
    format: str
    rows: int = 0
    images: int = 0
    by_task: Counter = field(default_factory=Counter)
    left_out: Counter = field(default_factory=Counter)  # reason -> rows or figures not written
    paper_license: dict[str, str] = field(default_factory=dict)  # for the export's card
    files: list[Path] = field(default_factory=list)

    def note(self, paper_id: str | None, license: str | None) -> None:
        if paper_id is not None and (license or paper_id not in self.paper_license):
            self.paper_license[paper_id] = license or "unknown"

    def lines(self) -> list[str]:
        tasks = ", ".join(f"{t}: {n:,}" for t, n in sorted(self.by_task.items()))
        out = [
            f"export {self.format}: {self.rows:,} rows, {self.images:,} images -> "
            + ", ".join(str(p) for p in self.files)
            + (f" ({tasks})" if tasks else "")
        ]
        out += [f"  left out {n:,}: {reason}" for reason, n in sorted(self.left_out.items())]
        return out


class NothingToExport(ValueError):
    pass


def image_name(figure_id: str, data: bytes) -> str:
    """A file name for a figure's image: readable, unique per figure_id, extension from the bytes."""
    return _safe_stem(figure_id.replace("/", "__"), figure_id) + (
        ".jpg" if data[:3] == b"\xff\xd8\xff" else ".png"
    )


def _safe_stem(name: str, key: str) -> str:
    safe = SAFE.sub("_", name)
    if safe != name:  # sanitising could merge two names: keep them apart
        safe += "-" + hashlib.sha1(key.encode()).hexdigest()[:8]
    return safe


class ImageFolder:
    """Writes each figure image once under DEST/{sub} and returns its name."""

    def __init__(self, dest: Path, sub: str = "images"):
        self.folder = Path(dest) / sub
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: set[str] = set()

    def save(self, figure_id: str, image: dict, name: str | None = None) -> str:
        name = name or image_name(figure_id, image["bytes"])
        if name not in self.written:
            data = image["bytes"]
            if name.endswith(".png") and not data.startswith(b"\x89PNG"):
                data = _as_png(data)
            (self.folder / name).write_bytes(data)
            self.written.add(name)
        return name


def _as_png(data: bytes) -> bytes:

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, format="PNG")
    return buf.getvalue()


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
        if any(isinstance(m["content"], str) for m in row["messages"]):
            raise NothingToExport(
                f"{out}/instructions holds schema version 1 rows (string content): rebuild them with "
                f"`scitune-curate instructions {out}` (README: Schema version 2)"
            )
        if (wanted is None or row["task"] in wanted) and allows(licenses, row.get("license")):
            yield row


def _count(stats: ExportStats, row: dict) -> None:
    stats.rows += 1
    stats.by_task[row["task"]] += 1
    stats.note(row.get("paper_id"), row.get("license"))


# --- llava ------------------------------------------------------------------------------------------


def llava_record(row: dict, image_file: str | None) -> dict:
    """One instruction row as a LLaVA record: `<image>` where the image part stands (LLaVA's loader
    moves it to the start of the turn), roles `human` / `gpt`."""
    roles = {"user": "human", "assistant": "gpt", "system": "system"}
    record = {"id": row["id"]}
    if image_file is not None:
        record["image"] = image_file
    record["conversations"] = [
        {"from": roles[m["role"]], "value": content_text(m["content"], IMAGE_TOKEN)} for m in row["messages"]
    ]
    return record


def _llava_problem(row: dict) -> str | None:
    """Why LLaVA's LazySupervisedDataset could not read this row as we would write it, or None."""
    n_images = len(row["images"])
    if n_images > 1:
        return "more than one image (LLaVA records hold one)"
    users = [m for m in row["messages"] if m["role"] == "user"]
    slots = [count_images(m["content"]) for m in users]
    if n_images and (not slots or slots[0] != 1 or sum(slots) != 1):
        return "the image is not in the first user turn"
    if any(IMAGE_TOKEN in content_text(m["content"], "") for m in row["messages"]):
        return f"a literal {IMAGE_TOKEN} in the text"
    return None


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
    with atomic_text(path) as f:
        f.write("[")
        for row in instruction_rows(out, tasks, progress, licenses):
            if problem := _llava_problem(row):
                stats.left_out[problem] += 1
                continue
            name = images.save(row["figure_id"], row["images"][0]) if row["images"] else None
            f.write(
                ("," if stats.rows else "") + "\n" + json.dumps(llava_record(row, name), ensure_ascii=False)
            )
            _count(stats, row)
        f.write("\n]\n")
    stats.images, stats.files = len(images.written), [path, images.folder]
    usage = (
        "LLaVA (haotian-liu/LLaVA) `train.py`: `--data_path llava.json --image_folder images` (each "
        "`image` is a file name under `images/`; the first human turn holds the one `<image>`).\n\n"
        "```python\nfrom datasets import load_dataset\n\n"
        'records = load_dataset("{repo}", split="train")  # id, image (file name), conversations\n```\n'
    )
    stats.files.append(
        write_export_card(
            dest,
            "llava",
            LLAVA_FEATURES,
            [{"split": "train", "path": "llava.json"}],
            stats,
            usage,
        )
    )
    return stats


# --- messages and prompt-completion (Parquet, images embedded) ------------------------------------


def messages_row(row: dict) -> dict:
    """One instruction row in TRL's vision chat form: the stored turns as they are (content parts)."""
    return {**{c: row.get(c) for c in KEPT}, "images": row["images"], "messages": row["messages"]}


def prompt_completion_row(row: dict) -> dict:
    """TRL's conversational prompt-completion: every turn but the last answer, then the last answer."""
    *prompt, completion = row["messages"]
    return {
        **{c: row.get(c) for c in KEPT},
        "images": row["images"],
        "prompt": prompt,
        "completion": [completion],
    }


def _export_parquet(
    fmt: str, out: Path, dest: Path, tasks, progress: bool, licenses, convert, features: Features, usage: str
) -> ExportStats:
    stats = ExportStats(fmt)

    def rows() -> Iterator[dict]:
        for row in instruction_rows(out, tasks, progress, licenses):
            if row["messages"][-1]["role"] != "assistant":
                stats.left_out["the last turn is not an answer"] += 1
                continue
            _count(stats, row)
            stats.images += len(row["images"])
            yield convert(row)

    write_table(rows(), Path(dest) / "data", features, prefix="train")
    card = write_export_card(
        dest, fmt, features, [{"split": "train", "path": "data/*.parquet"}], stats, usage
    )
    stats.files = [Path(dest) / "data", card]
    return stats


TRL_USAGE = (
    "```python\nfrom datasets import load_dataset\nfrom trl import SFTConfig, SFTTrainer\n\n"
    'train = load_dataset("{{repo}}", split="train")  # images decode to PIL, from any directory\n'
    "SFTTrainer(model=model, processing_class=processor, train_dataset=train,\n"
    '           args=SFTConfig(output_dir="out", max_length=None{extra})).train()\n```\n\n'
    'Any vision-language model whose chat template reads content parts (`{{"type": "image"}}`, '
    '`{{"type": "text", "text": ...}}`) works; TRL fills each image part from `images` in order.\n'
)


def export_messages(
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """TRL `messages` + `images` as Parquet under DEST/data, with a card so `load_dataset(DEST)` works."""
    usage = TRL_USAGE.format(extra="")
    return _export_parquet(
        "messages", out, dest, tasks, progress, licenses, messages_row, MESSAGES_FEATURES, usage
    )


def export_prompt_completion(
    out: Path,
    dest: Path,
    tasks: Iterable[str] | None = None,
    progress: bool = False,
    licenses: set[str] | None = None,
) -> ExportStats:
    """TRL conversational `prompt` / `completion` + `images` as Parquet under DEST/data."""
    usage = TRL_USAGE.format(extra=", completion_only_loss=True")
    return _export_parquet(
        "prompt-completion",
        out,
        dest,
        tasks,
        progress,
        licenses,
        prompt_completion_row,
        PROMPT_COMPLETION_FEATURES,
        usage,
    )


# --- SciCap Challenge (COCO-style) ------------------------------------------------------------------


def mention_groups(paragraphs: list[str], mentions: list[str]) -> list[list[str]]:
    """SciCap's `mention`: per paragraph, the mentioning sentences found in it."""
    groups = [[m for m in mentions if m and m in p] for p in paragraphs]
    placed = {m for g in groups for m in g}
    stray = [m for m in mentions if m and m not in placed]
    return groups + ([stray] if stray else [])


def _scicap_problem(fig: dict) -> str | None:
    """Why the Challenge's code could not use this figure, or None."""
    if not (fig.get("image") or {}).get("bytes"):
        return "no image"
    if not (fig.get("caption_no_index") or "").strip():
        return "no caption text (the Challenge's target is caption_no_index)"
    if not [p for p in fig.get("paragraphs") or [] if p and p.strip()]:
        # The Challenge baseline reads `paragraph[0]` of every record (IndexError on []), and the
        # Challenge data pairs every figure with the paragraphs that mention it.
        return "no mention paragraph (the Challenge baseline reads paragraph[0]; see scicap-2021)"
    return None


def _require_figures(out: Path) -> None:
    if not count_rows(out, "figures"):
        raise NothingToExport(f"{out}/figures has no rows: run `scitune-curate extract ... -o {out}` first")


def export_scicap(
    out: Path, dest: Path, progress: bool = False, licenses: set[str] | None = None
) -> ExportStats:
    """SciCap Challenge COCO-style JSON + images, from OUT/figures."""
    _require_figures(out)
    stats, images = ExportStats("scicap"), ImageFolder(dest)
    path = Path(dest) / "scicap.json"
    annotations = path.with_name(f".{path.name}.annotations.tmp")
    try:
        # Two arrays are streamed at once: images into the output, annotations into a side file.
        with atomic_text(path) as f, open(annotations, "w", encoding="utf-8") as a:
            f.write('{"info": {"description": "scitune figures in SciCap Challenge format"},\n"images": [')
            for fig in iter_rows(out, "figures", progress=progress, desc="export"):
                if not allows(licenses, fig.get("license")):
                    continue
                if problem := _scicap_problem(fig):
                    stats.left_out[problem] += 1
                    continue
                n = stats.rows + 1
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
                paragraphs = [p for p in fig.get("paragraphs") or [] if p and p.strip()]
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
                stats.note(fig.get("paper_id"), fig.get("license"))
            a.close()
            f.write('\n],\n"annotations": [')
            with open(annotations, encoding="utf-8") as a_in:
                for line in a_in:
                    f.write(line)
            f.write("\n]}\n")
    finally:
        annotations.unlink(missing_ok=True)
    stats.images, stats.files = len(images.written), [path, images.folder]
    data_files = [{"split": "train", "path": path.name}]
    usage = (
        "The SciCap Challenge's own code reads it as it reads their data (`--train_file scicap.json`: "
        "`load_dataset('json', field='annotations')`, input `paragraph[0]`, target `caption_no_index`); "
        "`images[].file_name` names a file under `images/`, joined on `annotations[].image_id`.\n\n"
        "```python\nfrom datasets import load_dataset\n\n"
        'annotations = load_dataset("{repo}", "annotations", split="train")\n'
        'images = load_dataset("{repo}", "images", split="train")\n```\n'
    )
    stats.files.append(
        write_export_card(
            dest,
            "scicap",
            {"annotations": SCICAP_ANNOTATION_FEATURES, "images": SCICAP_IMAGE_FEATURES},
            data_files,
            stats,
            usage,
            configs=[
                {
                    "config_name": "annotations",
                    "data_files": data_files,
                    "field": "annotations",
                    "default": True,
                },
                {"config_name": "images", "data_files": data_files, "field": "images"},
            ],
        )
    )
    return stats


# --- SciCap 2021 (one JSON per figure) --------------------------------------------------------------

# The 2021 release normalises captions in two levels (README of tingyaohsu/SciCap): lowercased,
# tokenised, figure index removed; then numbers -> NUM-TK ("2-1-basic-num") and, in addition,
# equations -> EQUAT-TK and bracketed spans -> BRACKET-TK ("2-2-advanced-euqation-bracket": the
# upstream spelling, as is its `tokens` key where the other levels say `token`).
TOKEN = re.compile(r"\w+(?:[-'.,/]\w+)*|[^\w\s]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SENTENCE_END = {".", "?", "!"}
BRACKETS = {"(": ")", "[": "]", "{": "}"}
EQUATION_OPS = {"=", "<", ">", "≤", "≥", "≈", "≠", "^", "_", "\\", "+", "×", "∈"}


def scicap_tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def _numbers(tokens: list[str]) -> list[str]:
    return ["NUM-TK" if NUMBER.fullmatch(t) else t for t in tokens]


def _equations(tokens: list[str]) -> list[str]:
    """Runs `a op b (op c ...)` around an equation operator become one EQUAT-TK."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        while j + 2 < len(tokens) and tokens[j + 1] in EQUATION_OPS:
            j += 2
        out.append("EQUAT-TK" if j > i else tokens[i])
        i = j + 1
    return out


def _brackets(tokens: list[str]) -> list[str]:
    """A bracket pair and what it encloses (outermost pair, nesting kept track of) become BRACKET-TK."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        close = BRACKETS.get(tokens[i])
        if close:
            depth, j = 0, i
            while j < len(tokens):
                depth += tokens[j] == tokens[i]
                depth -= tokens[j] == close
                if depth == 0:
                    break
                j += 1
            if j < len(tokens):  # matched; an unmatched bracket stays as it is
                out.append("BRACKET-TK")
                i = j + 1
                continue
        out.append(tokens[i])
        i += 1
    return out


def _level(tokens: list[str], token_key: str = "token") -> dict:
    sentences, current = [], []
    for t in tokens:
        current.append(t)
        if t in SENTENCE_END:
            sentences.append(" ".join(current))
            current = []
    if current:
        sentences.append(" ".join(current))
    return {"caption": " ".join(tokens), "sentence": sentences, token_key: tokens}


def scicap_figure_name(fig: dict) -> str:
    """The release's figure-ID: `{paper-ID}-{Figure|Table}{number}-1.png` (pdffigures2 naming)."""
    kind = "Table" if fig.get("kind") == "table" else "Figure"
    stem = f"{fig['paper_id']}-{kind}{fig.get('number')}-1"
    return _safe_stem(stem, fig["figure_id"]) + ".png"


def scicap_2021_record(fig: dict) -> dict:
    """A figure row as a SciCap 2021 caption record, keys and nesting as released."""
    tokens = scicap_tokens((fig.get("caption_no_index") or "").strip())
    basic = _numbers(tokens)
    return {
        "contains-subfigure": bool(fig.get("subfigures")),
        "Img-text": list(fig.get("ocr") or []),
        "paper-ID": fig["paper_id"],
        "figure-ID": scicap_figure_name(fig),
        "figure-type": SCICAP_TYPE_MAP.get(fig.get("figure_type"), "Other"),
        "0-originally-extracted": fig.get("caption") or "",
        "1-lowercase-and-token-and-remove-figure-index": _level(tokens),
        "2-normalized": {
            "2-1-basic-num": _level(basic),
            "2-2-advanced-euqation-bracket": _level(_brackets(_equations(basic)), "tokens"),
        },
    }


def export_scicap_2021(
    out: Path, dest: Path, progress: bool = False, licenses: set[str] | None = None
) -> ExportStats:
    """SciCap 2021 layout: one caption JSON per figure, images split by subfigure presence."""
    _require_figures(out)
    dest = Path(dest)
    stats = ExportStats("scicap-2021")
    captions = dest / "SciCap-Caption-All" / SCICAP_SPLIT
    captions.mkdir(parents=True, exist_ok=True)
    folders = {
        has: ImageFolder(dest, f"SciCap-{'Yes' if has else 'No'}-Subfig-Img/{SCICAP_SPLIT}")
        for has in (False, True)
    }
    for fig in iter_rows(out, "figures", progress=progress, desc="export"):
        if not allows(licenses, fig.get("license")):
            continue
        if not (fig.get("image") or {}).get("bytes"):
            stats.left_out["no image"] += 1
            continue
        if not (fig.get("caption_no_index") or "").strip():
            stats.left_out["no caption text"] += 1
            continue
        record = scicap_2021_record(fig)
        folders[record["contains-subfigure"]].save(fig["figure_id"], fig["image"], record["figure-ID"])
        with atomic_text(captions / (record["figure-ID"].removesuffix(".png") + ".json")) as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        stats.rows += 1
        stats.note(fig.get("paper_id"), fig.get("license"))
    stats.images = sum(len(f.written) for f in folders.values())
    stats.files = [captions, *(f.folder for f in folders.values())]
    usage = (
        "Readers written for the 2021 release read it unchanged: list `SciCap-No-Subfig-Img/train/` (or "
        "`SciCap-Yes-Subfig-Img/train/`) and open `SciCap-Caption-All/train/{stem}.json` for each image; "
        "`figure-ID` is the image's file name.\n\n"
        "```python\nfrom datasets import load_dataset\n\n"
        'captions = load_dataset("{repo}", split="train")  # one row per figure, the release\'s keys\n'
        'captions[0]["1-lowercase-and-token-and-remove-figure-index"]["caption"]\n```\n'
    )
    data_files = [{"split": "train", "path": f"SciCap-Caption-All/{SCICAP_SPLIT}/*.json"}]
    stats.files.append(write_export_card(dest, "scicap-2021", SCICAP_2021_FEATURES, data_files, stats, usage))
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
    if fmt == "scicap-2021":
        return export_scicap_2021(out, dest, progress, licenses)
    raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
