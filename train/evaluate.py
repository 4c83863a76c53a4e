"""`scitune-train evaluate` and `compare`: run a checkpoint (or read a prediction file) and score it.

Main flow, for every task: read the benchmark -> build one request per item -> generate (or read
`--predictions`) -> score -> write RESULTS_DIR:

    results.json       every number, with the exact settings (model, prompt format, decoding, data,
                       versions), parse failures and input errors
    predictions.jsonl  one record per item, LLaVA answer style (`question_id`, `text`, ...); it can be
                       scored again with `--predictions`
    results.md         the tables, like the papers'
    scores.png         per-category (ScienceQA) or per-metric (captions) bar chart
    figure_types.png   per-type F1 (caption tasks with gold figure types)

Inputs that cannot be evaluated (a missing image, an unreadable record) are listed under `errors` with
the reason; for ScienceQA they count as wrong, so accuracies keep the official denominators.
"""

from __future__ import annotations

import itertools
import json
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..curate.instructions import load_templates
from ..schemas import IMAGE_TOKEN
from . import captions as cap
from . import metrics, report
from . import scienceqa as sqa
from .generate import Decoding, Generated, Request, chat_template_name, generate, load_checkpoint

DEFAULT_MAX_NEW_TOKENS = {"CQM-A": 16, "QCM-LEA": 512, "QCM-LEPA": 512, "scicap": 128, "vistext": 128}
CAPTION_TASKS = ("scicap", "vistext")


def _pool_prompt(task: str) -> str:
    """The first wording of a task's pool in curate/templates/v1.yaml (for a figure): what models trained
    on scitune data were asked."""
    return load_templates("1").tasks[task][0].format(kind="figure")


CAPTION_PROMPT = _pool_prompt("caption")
TYPE_PROMPT = _pool_prompt("figure_type")
VISTEXT_PROMPT = f"{IMAGE_TOKEN}\nDescribe this chart."  # VisText's task has no pool of its own in v1.yaml


def versions() -> dict:
    return {
        "scitune": metrics.package_version("scitune"),
        "python": platform.python_version(),
        "torch": metrics.package_version("torch"),
        "transformers": metrics.package_version("transformers"),
        "tokenizers": metrics.package_version("tokenizers"),
    }


def _model_settings(model_dir: str | Path, processor, model) -> dict:
    path = Path(model_dir)
    weights = sorted(p.name for p in path.glob("*.safetensors")) or sorted(p.name for p in path.glob("*.bin"))
    return {
        "model": str(model_dir),
        "model_files": weights,
        "architecture": type(model).__name__,
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "device": str(next(model.parameters()).device),
        "chat_template": chat_template_name(processor),
    }


def _write(out: Path, result: dict, rows: list[dict], markdown: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "results.md").write_text(markdown, encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _decoding(decoding: Decoding | None, max_new_tokens: int) -> Decoding:
    decoding = decoding or Decoding()
    if decoding.max_new_tokens is None:
        decoding.max_new_tokens = max_new_tokens
    return decoding


# ----------------------------------------------------------------------------- the driver


@dataclass
class Chart:
    """One bar chart of a results folder (report.bar_chart)."""

    values: dict[str, float | None]
    file: str
    title: str
    ylabel: str
    ymax: float | None = None


@dataclass
class Scored:
    """What a task's scoring hands the driver to write."""

    body: dict  # the entries of results.json between `versions` and `errors`
    rows: list[dict]  # predictions.jsonl, one per item
    markdown: str  # results.md
    charts: list[Chart] = field(default_factory=list)
    versions: dict = field(default_factory=dict)  # added to `versions` (e.g. the caption metrics')


class Task(Protocol):
    """One benchmark for `run`: it reads its items once, turns them into requests, and scores answers.

    Items that cannot be evaluated go to `errors` (dicts with id, stage, error, message) on the way.
    """

    name: str  # results.json `task`, and the progress label
    what: str  # what the model generates, for messages ("answers", "captions")
    max_new_tokens: int  # default of Decoding.max_new_tokens
    errors: list[dict]

    def read(self) -> None: ...
    def settings(self, generating: bool) -> dict: ...
    def requests(self) -> Iterable[Request]: ...
    def n_requests(self) -> int | None: ...
    def collect(self, generated: Iterable[Generated]) -> dict: ...
    def load_predictions(self, path: str | Path) -> dict: ...
    def ids(self) -> set[str]: ...
    def score(self, found: dict, name: str, settings: dict) -> Scored: ...


def run(
    task: Task,
    out: str | Path,
    model: str | Path | None = None,
    predictions: str | Path | None = None,
    decoding: Decoding | None = None,
) -> dict:
    """Read -> requests -> generate (or read `predictions`) -> score -> report, for one task."""
    if (model is None) == (predictions is None):
        raise ValueError(
            f"give either --model CKPT (to generate {task.what}) or --predictions FILE (to score them)"
        )
    started = time.monotonic()
    out = Path(out)
    task.read()
    settings = task.settings(generating=model is not None)
    if predictions is not None:
        found = task.load_predictions(predictions)
        settings["predictions"] = str(predictions)
        settings["ignored_predictions"] = len(set(found) - task.ids())
    else:
        decoding = _decoding(decoding, task.max_new_tokens)
        net, processor = load_checkpoint(model)
        settings.update(_model_settings(model, processor, net), decoding=decoding.as_dict())
        generated = generate(
            net, processor, task.requests(), decoding, total=task.n_requests(), label=task.name
        )
        found = task.collect(generated)
    name = Path(str(model or predictions)).name
    scored = task.score(found, name, settings)
    result = {
        "task": task.name,
        "settings": settings,
        "versions": {**versions(), **scored.versions},
        **scored.body,
        "errors": task.errors,
        "run": {"seconds": round(time.monotonic() - started, 2)},
    }
    _write(out, result, scored.rows, scored.markdown)
    for chart in scored.charts:
        report.bar_chart(chart.values, out / chart.file, chart.title, chart.ylabel, ymax=chart.ymax)
    return result


def evaluate(
    task: str,
    data: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    predictions: str | Path | None = None,
    decoding: Decoding | None = None,
    split: str = "test",
    limit: int | None = None,
    prompt_format: str = "CQM-A",
    scitune_variant: bool = False,
    reference: str = "caption_no_index",
    images: str | Path | None = None,
    prompt: str | None = None,
    type_prompt: str = TYPE_PROMPT,
    figure_type: bool = True,
) -> dict:
    """Evaluate on `task`: scienceqa (prompt_format, scitune_variant) or scicap/vistext (reference,
    images, prompt, type_prompt, figure_type); the other arguments serve every task."""
    if task == "scienceqa":
        bench: Task = ScienceQA(data, split, prompt_format, scitune_variant, limit)
    elif task in CAPTION_TASKS:
        bench = Captions(task, data, split, reference, images, prompt, type_prompt, figure_type, limit)
    else:
        raise ValueError(f"unknown task {task!r}: choose scienceqa, scicap or vistext")
    return run(bench, out, model, predictions, decoding)


# ----------------------------------------------------------------------------- ScienceQA


class ScienceQA:
    """ScienceQA `split`: one request per question; accuracy per category, missing answers wrong."""

    name = "scienceqa"
    what = "answers"

    def __init__(
        self,
        data: str | Path,
        split: str = "test",
        prompt_format: str = "CQM-A",
        scitune_variant: bool = False,
        limit: int | None = None,
    ):
        if prompt_format not in sqa.FORMATS:
            raise ValueError(f"unknown prompt format {prompt_format!r}; choose one of {sqa.FORMATS}")
        self.data, self.split, self.prompt_format, self.limit = data, split, prompt_format, limit
        self.variant = "scitune" if scitune_variant else "standard"
        self.max_new_tokens = DEFAULT_MAX_NEW_TOKENS[prompt_format]
        self.problems: list[sqa.Problem] = []
        self.prompts: dict[str, str] = {}
        self.errors: list[dict] = []

    def read(self) -> None:
        problems = sqa.read_problems(self.data, self.split)
        self.problems = list(itertools.islice(problems, self.limit) if self.limit else problems)
        if not self.problems:
            raise ValueError(f"no ScienceQA problems of split {self.split!r} in {self.data}")

    def settings(self, generating: bool) -> dict:
        return {
            "prompt_format": self.prompt_format if generating else None,
            "split": self.split,
            "variant": self.variant,
            "data": str(self.data),
            "n_questions": len(self.problems),
            "limit": self.limit,
        }

    def _usable(self) -> list[sqa.Problem]:
        return [p for p in self.problems if not (p.has_image and p.image is None)]

    def requests(self) -> list[Request]:
        self.prompts = {p.pid: sqa.prompt(p, self.prompt_format) for p in self.problems}
        for p in self.problems:
            if p.has_image and p.image is None:
                self.errors.append(
                    {
                        "id": p.pid,
                        "stage": "input",
                        "error": "image_missing",
                        "message": f"question {p.pid} has an image but it was not found under "
                        f"images/{p.split}/{p.pid}/; counted wrong",
                    }
                )
        return [Request(p.pid, self.prompts[p.pid], p.image) for p in self._usable()]

    def n_requests(self) -> int:
        return len(self._usable())

    def collect(self, generated: Iterable[Generated]) -> dict[str, str]:
        found = {}
        for g in generated:
            if g.text is None:
                self.errors.append(
                    {
                        "id": g.id,
                        "stage": "generate",
                        "error": "generation_failed",
                        "message": f"{g.error}; counted wrong",
                    }
                )
            else:
                found[g.id] = g.text
        return found

    def load_predictions(self, path: str | Path) -> dict[str, str | int]:
        return sqa.read_predictions(path)

    def ids(self) -> set[str]:
        return {p.pid for p in self.problems}

    def score(self, found: dict, name: str, settings: dict) -> Scored:
        judged = sqa.judge(self.problems, found)
        scores = sqa.score(self.problems, judged, self.variant)
        rows = [
            {
                "question_id": j.pid,
                "prompt": self.prompts.get(j.pid),
                "text": j.text,
                "parsed": j.parsed,
                "pred": j.pred,
                "answer": j.answer,
                "correct": j.correct,
            }
            for j in judged
        ]
        failures = [
            {"question_id": j.pid, "text": j.text, "reason": j.parsed} for j in judged if j.pred is None
        ]
        body = {
            "category_definitions": sqa.CATEGORY_DEFINITIONS[self.variant],
            "answer_parser": sqa.PARSER_RULES,
            "scores": scores,
            "per_grade": sqa.per_grade(self.problems, judged),
            "parse_failures": failures,
        }
        if self.variant != "standard":
            body["scores_standard"] = sqa.score(self.problems, judged, "standard")
        accuracy = {c: v["accuracy"] for c, v in scores.items()}
        label = f"{name} {settings['prompt_format'] or ''}".strip()
        markdown = (
            f"# ScienceQA {self.split}: {name}\n\n"
            + report.scienceqa_table([(label, self.variant, accuracy)])
            + f"\n{len(failures)} answers could not be read (counted wrong); "
            f"{len(self.errors)} input errors.\n"
        )
        chart = Chart(
            accuracy,
            "scores.png",
            f"ScienceQA {self.split} accuracy ({self.variant} columns): {name}",
            "accuracy (%)",
            ymax=100,
        )
        return Scored(body, rows, markdown, [chart])


# ----------------------------------------------------------------------------- captions


class Captions:
    """SciCap (and its Challenge, and scitune OUT folders) or VisText: a caption request per image and,
    with `figure_type`, a figure-type request per image that has a gold type."""

    what = "captions"

    def __init__(
        self,
        task: str,
        data: str | Path,
        split: str = "test",
        reference: str = "caption_no_index",
        images: str | Path | None = None,
        prompt: str | None = None,
        type_prompt: str = TYPE_PROMPT,
        figure_type: bool = True,
        limit: int | None = None,
    ):
        self.name, self.data, self.split, self.reference, self.images = task, data, split, reference, images
        self.prompt = prompt or (VISTEXT_PROMPT if task == "vistext" else CAPTION_PROMPT)
        self.type_prompt, self.figure_type, self.limit = type_prompt, figure_type, limit
        self.max_new_tokens = DEFAULT_MAX_NEW_TOKENS[task]
        self.fmt = ""
        self._stream: Iterator[cap.CaptionItem | cap.ReadError] = iter(())
        self.meta: dict[str, cap.CaptionItem] = {}  # items read so far, without their images
        self.errors: list[dict] = []

    def read(self) -> None:
        self.fmt, self._stream = cap.read_caption_data(
            self.name, self.data, self.split, self.reference, self.images
        )

    def settings(self, generating: bool) -> dict:
        return {
            "task": self.name,
            "data": str(self.data),
            "data_format": self.fmt,
            "split": self.split,
            "limit": self.limit,
            "caption_prompt": self.prompt,
            "type_prompt": self.type_prompt if self.figure_type else None,
            "reference": self.reference if self.name == "scicap" else "L1, L2L3, L1+L2L3",
        }

    def items(self) -> Iterator[cap.CaptionItem]:
        """Items in input order, streamed (images are not kept); errors and duplicates recorded."""
        for it in self._stream:
            if isinstance(it, cap.ReadError):
                self.errors.append(
                    {
                        "id": it.id,
                        "input": it.input,
                        "stage": "input",
                        "error": it.error,
                        "message": it.message,
                    }
                )
                continue
            if it.id in self.meta:
                self.errors.append(
                    {
                        "id": it.id,
                        "input": it.source,
                        "stage": "input",
                        "error": "duplicate_id",
                        "message": f"{it.id} appears twice; the second one was skipped",
                    }
                )
                continue
            if self.limit and len(self.meta) >= self.limit:
                return
            self.meta[it.id] = cap.CaptionItem(it.id, None, it.references, it.figure_type, it.source)
            yield it

    def requests(self) -> Iterator[Request]:
        for it in self.items():
            yield Request(f"caption\t{it.id}", self.prompt, it.image)
            if self.figure_type and it.figure_type:
                yield Request(f"type\t{it.id}", self.type_prompt, it.image)

    def n_requests(self) -> int | None:
        """Known in advance only with a limit: the items are streamed, read once."""
        return self.limit * (2 if self.figure_type else 1) if self.limit else None

    def collect(self, generated: Iterable[Generated]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for g in generated:
            kind, item_id = g.id.split("\t", 1)
            slot = found.setdefault(item_id, {"text": None, "type_text": None})
            if g.text is None:
                self.errors.append(
                    {
                        "id": item_id,
                        "stage": "generate",
                        "error": "generation_failed",
                        "message": f"{kind}: {g.error}",
                    }
                )
            slot["text" if kind == "caption" else "type_text"] = g.text
        return found

    def load_predictions(self, path: str | Path) -> dict[str, dict]:
        return read_caption_predictions(path)

    def ids(self) -> set[str]:
        for _ in self.items():  # the rest of the stream: every item's references and gold type
            pass
        return set(self.meta)

    def score(self, found: dict, name: str, settings: dict) -> Scored:
        meta = self.meta
        # Scoring: every item with a caption prediction, against each reference level.
        missing = [i for i in meta if not (found.get(i) or {}).get("text")]
        for i in missing:
            if not any(e["id"] == i for e in self.errors):
                self.errors.append(
                    {
                        "id": i,
                        "stage": "predictions",
                        "error": "no_prediction",
                        "message": f"no caption for {i}",
                    }
                )
        cleaned = {i: metrics.clean_prediction(found[i]["text"]) for i in meta if i not in missing}
        levels = sorted(
            {lvl for it in meta.values() for lvl in it.references},
            key=["caption", "L1", "L2L3", "L1+L2L3"].index,
        )
        caption_scores, per_sample = {}, {}
        versions_used: dict = {}
        for level in levels:
            refs = {i: meta[i].references.get(level) or [] for i in cleaned}
            scored = metrics.caption_scores(cleaned, refs)
            scored["scores"]["n_items"] = len(meta)
            caption_scores[level], per_sample[level] = scored["scores"], scored["per_sample"]
            versions_used = scored["versions"]
        types, parsed_types = self._type_scores(found)

        main = levels[0] if levels else None
        rows = []
        for i, it in meta.items():
            f = found.get(i) or {}
            row = {
                "question_id": i,
                "text": f.get("text"),
                "caption": cleaned.get(i),
                "type_text": f.get("type_text"),
                "figure_type": parsed_types.get(i),
                "gold_type": it.figure_type,
            }
            for metric, values in (per_sample.get(main) or {}).items():
                row[metric] = values.get(i)
            rows.append(row)
        body = {
            "metric_scales": metrics.METRIC_SCALES,
            "scores": {"captions": caption_scores, "figure_type": types},
        }
        markdown = f"# {self.name} {self.split}: {name}\n\n" + report.caption_table(
            [(name, lvl, s) for lvl, s in caption_scores.items()]
        )
        if types:
            markdown += "\n" + report.type_table(name, types)
        markdown += f"\n{len(self.errors)} input or prediction errors (see results.json).\n"
        charts = []
        if main:
            shown = {
                k: caption_scores[main].get(k)
                for k in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "google_bleu_mean", "rougeL_mean")
            }
            charts.append(
                Chart(
                    shown,
                    "scores.png",
                    f"{self.name} {self.split} ({main} references): {name}",
                    "score (0-1; CIDEr 0-10)",
                )
            )
        if types and types["per_class"]:
            charts.append(
                Chart(
                    {k: v["f1"] for k, v in types["per_class"].items()},
                    "figure_types.png",
                    f"{self.name} figure-type F1: {name}",
                    "F1",
                    ymax=1.0,
                )
            )
        versions = {"metrics": versions_used or metrics.metric_versions()}
        return Scored(body, rows, markdown, charts, versions)

    def _type_scores(self, found: dict) -> tuple[dict | None, dict[str, str | None]]:
        """Figure-type accuracy and macro-F1 over the items with a gold type; the type read per item."""
        typed = [i for i in self.meta if self.meta[i].figure_type]
        parsed: dict[str, str | None] = {}
        if not (self.figure_type and typed):
            return None, parsed
        vocab = cap.type_vocabulary({self.meta[i].figure_type for i in typed})
        for i in typed:
            text = (found.get(i) or {}).get("type_text")
            parsed[i] = cap.parse_figure_type(text, vocab) if text else None
        gold = [self.meta[i].figure_type for i in typed]
        return metrics.classification_scores(gold, [parsed[i] for i in typed]), parsed


def read_caption_predictions(path: str | Path) -> dict[str, dict]:
    """id -> {"text", "type_text"} from JSONL (`question_id` or `id`, `text`, optional `type_text`) or a
    JSON object id -> caption text."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    if path.suffix != ".jsonl" and raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
            if all(isinstance(v, str) for v in data.values()):
                return {str(k): {"text": v, "type_text": None} for k, v in data.items()}
        except json.JSONDecodeError:
            pass
    out = {}
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                rec = json.loads(line)
                key = rec.get("question_id", rec.get("id"))
                out[str(key)] = {"text": rec["text"], "type_text": rec.get("type_text")}
            except (json.JSONDecodeError, KeyError, AttributeError) as err:
                raise ValueError(f'{path} line {n}: expected {{"question_id", "text"}} ({err})') from None
    return out


def summary(result: dict) -> str:
    """A few lines for the terminal."""
    if result["task"] == "scienceqa":
        s = result["scores"]
        cols = " ".join(
            f"{c} {v['accuracy']:.2f}" if v["accuracy"] is not None else f"{c} -" for c, v in s.items()
        )
        return (
            f"ScienceQA ({result['settings']['variant']} columns): {cols}\n"
            f"{len(result['parse_failures'])} unreadable answers, {len(result['errors'])} input errors"
        )
    lines = []
    names = {
        "BLEU-4": "BLEU-4",
        "METEOR": "METEOR",
        "ROUGE-L": "ROUGE-L",
        "CIDEr": "CIDEr",
        "google_bleu_mean": "google_bleu",
        "rougeL_mean": "rougeL",
    }
    for level, s in result["scores"]["captions"].items():
        values = " ".join(
            f"{short} {'-' if s.get(k) is None else format(s[k], '.4f')}" for k, short in names.items()
        )
        lines.append(f"{result['task']} [{level}] n={s.get('n')}: {values}")
    t = result["scores"].get("figure_type")
    if t:
        lines.append(f"figure type: accuracy {t['accuracy']:.4f}, macro-F1 {t['macro_f1']:.4f} (n={t['n']})")
    lines.append(f"{len(result['errors'])} input or prediction errors")
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
