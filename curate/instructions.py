"""Instruction records from figure rows: the tasks SciTune trains on, worded from versioned templates.

`build_instructions(OUT)` streams `OUT/figures` shard by shard and writes `OUT/instructions` (schema
`scitune.schemas.INSTRUCTION_FEATURES`). Each figure yields one row per task it has material for; a
task whose input is empty (no OCR words, no mention paragraph) is skipped for that figure, never
emitted with an empty target. Turns are stored as content parts (text, and the image where the
template's `<image>` stands), the form TRL and transformers' chat templates read. The user-turn
wording is drawn from the template pool of `curate/templates/v{version}.yaml` by a hash of (seed,
figure_id, task, index), so the same OUT and seed always give the same rows, whatever the order or
sharding of the figures.

Targets are the authors' own text (caption, words in the figure, mention paragraphs); only the
instruction wording and two short answer frames (figure type, mention) are ours.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from ..schemas import IMAGE_TOKEN, INSTRUCTION_FEATURES, content_parts
from ..schemas.instructions import text_part
from .card import write_card
from .filters import iter_rows
from .writer import write_table

TASKS = ("caption", "ctom", "figure_type", "ocr", "mention", "caption_with_context")
LATEST_TEMPLATE_VERSION = "1"
MAX_MENTION_ROWS = 3  # mention rows per figure: a figure cited ten times should not weigh ten times more
MAX_CONTEXT_CHARS = 3000  # paragraphs shown in caption_with_context prompts


@dataclass(frozen=True)
class Templates:
    version: str
    tasks: dict[str, tuple[str, ...]]
    answers: dict[str, str]


@cache
def load_templates(version: str = LATEST_TEMPLATE_VERSION) -> Templates:
    """The template pools of `templates/v{version}.yaml`, checked: one `<image>` per template."""
    path = resources.files("scitune.curate") / "templates" / f"v{version}.yaml"
    if not path.is_file():
        shipped = sorted(p.name for p in (resources.files("scitune.curate") / "templates").iterdir())
        raise ValueError(f"no template pool version {version!r}; shipped: {shipped}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if str(data.get("version")) != str(version):
        raise ValueError(f"{path.name} declares version {data.get('version')!r}, expected {version!r}")
    tasks = {task: tuple(pool) for task, pool in data["tasks"].items()}
    for task, pool in tasks.items():
        if not pool:
            raise ValueError(f"{path.name}: empty pool for task {task!r}")
        for template in pool:
            if template.count(IMAGE_TOKEN) != 1:
                raise ValueError(
                    f"{path.name}: {task} template needs exactly one {IMAGE_TOKEN}: {template!r}"
                )
    return Templates(str(version), tasks, dict(data.get("answers") or {}))


def pick(pool: tuple[str, ...], figure_id: str, task: str, seed: int, index: int = 0) -> int:
    """Index of the template for this figure and task: stable across runs, orders and shards."""
    key = f"{seed}\x00{figure_id}\x00{task}\x00{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % len(pool)


def type_words(figure_type: str | None) -> str:
    """`line_plot` -> `line plot`."""
    return (figure_type or "other").replace("_", " ")


def ctom_target(fig: dict) -> str:
    """SciTune's stage-1 "CTOM" target: `type caption`, OCR words tab-joined, paragraphs, mentions.

    The layout follows pnnl/SciTune's conversion of SciCap Challenge records (paragraphs and mentions
    newline-joined); the type is our taxonomy class in words instead of SciCap's coarse class, and
    "figure" (or "table") when the class is unknown, where SciTune wrote "Image".
    """
    known = fig.get("figure_type") not in (None, "", "other")
    kind = type_words(fig["figure_type"]) if known else ("table" if fig.get("kind") == "table" else "figure")
    return "\n".join(
        [
            f"{kind} {_bare_caption(fig)}",
            "\t".join(fig.get("ocr") or []),
            "\n".join(fig.get("paragraphs") or []),
            "\n".join(fig.get("mentions") or []),
        ]
    )


def _bare_caption(fig: dict) -> str:
    return (fig.get("caption_no_index") or "").strip()


def _printed_label(fig: dict) -> str:
    return f"{'Table' if fig.get('kind') == 'table' else 'Figure'} {fig.get('number')}"


def _context(paragraphs: list[str]) -> str:
    text = "\n\n".join(p.strip() for p in paragraphs if p and p.strip())
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[:MAX_CONTEXT_CHARS].rsplit(" ", 1)[0] + " ..."
    return text


def task_inputs(fig: dict, task: str) -> list[tuple[dict, str]] | str:
    """[(template fields, target)] for each row this task yields for `fig`, or why it yields none."""
    caption = _bare_caption(fig)
    paragraphs = [p for p in fig.get("paragraphs") or [] if p and p.strip()]
    if task in ("caption", "ctom", "mention", "caption_with_context") and not caption:
        return "no caption text"
    if task in ("caption", "ctom"):
        return [({}, caption if task == "caption" else ctom_target(fig))]
    if task == "figure_type":
        if fig.get("figure_type") in (None, "", "other"):
            return "figure type unknown"
        if fig["figure_type"] == "table":  # "What type of table is this?" -> "A table." teaches nothing
            return "a table float"
        words = type_words(fig["figure_type"])
        return [({"type": words, "article": "An" if words[0] in "aeiou" else "A"}, None)]
    if task == "ocr":
        words = [w for w in fig.get("ocr") or [] if w and w.strip()]
        return [({}, " ".join(words))] if words else "no OCR words"
    if task == "mention":
        if not paragraphs:
            return "no mention paragraph"
        return [
            ({"paragraph": p.strip(), "label": _printed_label(fig), "caption": caption}, None)
            for p in paragraphs[:MAX_MENTION_ROWS]
        ]
    if task == "caption_with_context":
        return [({"context": _context(paragraphs)}, caption)] if paragraphs else "no mention paragraph"
    raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")


def figure_instructions(
    fig: dict,
    tasks: Iterable[str] = TASKS,
    seed: int = 0,
    templates: Templates | None = None,
    skipped: Counter | None = None,
) -> Iterator[dict]:
    """The instruction rows of one figure row; counts skipped tasks into `skipped` by (task, reason)."""
    templates = templates or load_templates()
    image = fig.get("image")
    if not image or not image.get("bytes"):
        if skipped is not None:
            skipped[("*", "no image")] += 1
        return
    kind = "table" if fig.get("kind") == "table" else "figure"
    for task in tasks:
        found = task_inputs(fig, task)
        if isinstance(found, str):
            if skipped is not None:
                skipped[(task, found)] += 1
            continue
        for index, (fields, target) in enumerate(found):
            pool = templates.tasks[task]
            choice = pick(pool, fig["figure_id"], task, seed, index)
            # Paper text quoted into the user turn must not add image slots of its own.
            quoted = {
                k: v.replace(IMAGE_TOKEN, "image") if isinstance(v, str) else v for k, v in fields.items()
            }
            user = pool[choice].format(kind=kind, **quoted)
            if target is None:  # worded answers (figure type, mention)
                target = templates.answers[task].format(**fields)
            # A literal `<image>` in paper text would be read as an image slot by LLaVA's tokenizer.
            target = target.replace(IMAGE_TOKEN, "image")
            yield {
                "id": f"{fig['figure_id']}/{task}" + (f"/{index}" if task == "mention" else ""),
                "figure_id": fig["figure_id"],
                "paper_id": fig.get("paper_id"),
                "task": task,
                "images": [{"bytes": image["bytes"], "path": None}],
                # The template's `<image>` becomes an image part where it stands (schema version 2).
                "messages": [
                    {"role": "user", "content": content_parts(user)},
                    {"role": "assistant", "content": [text_part(target)]},
                ],
                "template_id": f"{task}/{choice}",
                "template_version": templates.version,
                "license": fig.get("license"),
            }


@dataclass
class InstructionStats:
    figures: int = 0
    rows: Counter = field(default_factory=Counter)  # task -> rows written
    skipped: Counter = field(default_factory=Counter)  # (task, reason) -> figures
    seconds: float = 0.0
    shards: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"instructions: {sum(self.rows.values()):,} rows from {self.figures:,} figures "
            f"in {self.seconds:.1f} s ({len(self.shards)} shards)"
        ]
        out += [f"  {task}: {n:,}" for task, n in sorted(self.rows.items())]
        out += [
            f"  skipped {task} for {n:,} figures: {reason}"
            for (task, reason), n in sorted(self.skipped.items())
        ]
        return out


def build_instructions(
    out: Path,
    tasks: Iterable[str] = TASKS,
    seed: int = 0,
    template_version: str = LATEST_TEMPLATE_VERSION,
    where: Callable[[dict], bool] | None = None,
    progress: bool = False,
) -> InstructionStats:
    """Write OUT/instructions/*.parquet from OUT/figures; replaces the previous instructions as a whole.

    `where` keeps only the figure rows it returns True for (see `scitune.curate.filters`). The dataset
    card is rewritten afterwards so that it lists the new table (keeping the command it recorded).
    """
    out = Path(out)
    tasks = tuple(tasks)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {unknown}; known: {', '.join(TASKS)}")
    templates = load_templates(template_version)
    missing = [t for t in tasks if t not in templates.tasks]
    if missing:
        raise ValueError(f"template pool v{template_version} has no templates for {missing}")
    stats = InstructionStats()
    start = time.monotonic()

    def rows() -> Iterator[dict]:
        for fig in iter_rows(out, "figures", progress=progress, desc="instructions"):
            if where is not None and not where(fig):
                continue
            stats.figures += 1
            for row in figure_instructions(fig, tasks, seed, templates, stats.skipped):
                stats.rows[row["task"]] += 1
                yield row

    stats.shards = write_table(rows(), out / "instructions", INSTRUCTION_FEATURES, prefix="instructions")
    write_card(out)
    stats.seconds = time.monotonic() - start
    return stats
