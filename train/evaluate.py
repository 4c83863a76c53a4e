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

import json
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from . import captions as cap
from . import metrics, report
from . import scienceqa as sqa
from .generate import Decoding, Request, chat_template_name, generate, load_checkpoint

DEFAULT_MAX_NEW_TOKENS = {"CQM-A": 16, "QCM-LEA": 512, "QCM-LEPA": 512, "scicap": 128, "vistext": 128}
# The first wording of the matching pools in curate/templates/v1.yaml, the data scitune models train on.
CAPTION_PROMPT = "<image>\nWrite the caption of this figure."
VISTEXT_PROMPT = "<image>\nDescribe this chart."
TYPE_PROMPT = "<image>\nWhat type of figure is this?"


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


def _decoding(decoding: Decoding | None, key: str) -> Decoding:
    decoding = decoding or Decoding()
    if decoding.max_new_tokens is None:
        decoding.max_new_tokens = DEFAULT_MAX_NEW_TOKENS[key]
    return decoding


# ----------------------------------------------------------------------------- ScienceQA


def evaluate_scienceqa(
    data: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    predictions: str | Path | None = None,
    prompt_format: str = "CQM-A",
    split: str = "test",
    scitune_variant: bool = False,
    decoding: Decoding | None = None,
    limit: int | None = None,
) -> dict:
    """Score a checkpoint (generating answers) or a prediction file on ScienceQA `split`."""
    if prompt_format not in sqa.FORMATS:
        raise ValueError(f"unknown prompt format {prompt_format!r}; choose one of {sqa.FORMATS}")
    if (model is None) == (predictions is None):
        raise ValueError(
            "give either --model CKPT (to generate answers) or --predictions FILE (to score them)"
        )
    started = time.monotonic()
    out = Path(out)
    problems = list(sqa.read_problems(data, split))[:limit] if limit else list(sqa.read_problems(data, split))
    if not problems:
        raise ValueError(f"no ScienceQA problems of split {split!r} in {data}")
    errors: list[dict] = []
    prompts = {p.pid: sqa.prompt(p, prompt_format) for p in problems} if model is not None else {}
    settings: dict = {
        "prompt_format": prompt_format if model is not None else None,
        "split": split,
        "variant": "scitune" if scitune_variant else "standard",
        "data": str(data),
        "n_questions": len(problems),
        "limit": limit,
    }

    if predictions is not None:
        found = sqa.read_predictions(predictions)
        settings["predictions"] = str(predictions)
        settings["ignored_predictions"] = len(set(found) - {p.pid for p in problems})
    else:
        decoding = _decoding(decoding, prompt_format)
        net, processor = load_checkpoint(model)
        settings.update(_model_settings(model, processor, net), decoding=decoding.as_dict())
        requests = []
        for p in problems:
            if p.has_image and p.image is None:
                errors.append(
                    {
                        "id": p.pid,
                        "stage": "input",
                        "error": "image_missing",
                        "message": f"question {p.pid} has an image but it was not found under "
                        f"images/{p.split}/{p.pid}/; counted wrong",
                    }
                )
                continue
            requests.append(Request(p.pid, prompts[p.pid], p.image))
        found = {}
        for g in generate(net, processor, requests, decoding, total=len(requests), label="scienceqa"):
            if g.text is None:
                errors.append(
                    {
                        "id": g.id,
                        "stage": "generate",
                        "error": "generation_failed",
                        "message": f"{g.error}; counted wrong",
                    }
                )
            else:
                found[g.id] = g.text

    judged = sqa.judge(problems, found)
    variant = settings["variant"]
    scores = sqa.score(problems, judged, variant)
    rows = [
        {
            "question_id": j.pid,
            "prompt": prompts.get(j.pid),
            "text": j.text,
            "parsed": j.parsed,
            "pred": j.pred,
            "answer": j.answer,
            "correct": j.correct,
        }
        for j in judged
    ]
    failures = [{"question_id": j.pid, "text": j.text, "reason": j.parsed} for j in judged if j.pred is None]
    result = {
        "task": "scienceqa",
        "settings": settings,
        "versions": versions(),
        "category_definitions": sqa.CATEGORY_DEFINITIONS[variant],
        "answer_parser": sqa.PARSER_RULES,
        "scores": scores,
        "per_grade": sqa.per_grade(problems, judged),
        "parse_failures": failures,
        "errors": errors,
        "run": {"seconds": round(time.monotonic() - started, 2)},
    }
    if variant != "standard":
        result["scores_standard"] = sqa.score(problems, judged, "standard")
    name = Path(str(model or predictions)).name
    table_rows = [
        (
            f"{name} {settings['prompt_format'] or ''}".strip(),
            variant,
            {c: v["accuracy"] for c, v in scores.items()},
        )
    ]
    markdown = (
        f"# ScienceQA {split}: {name}\n\n"
        + report.scienceqa_table(table_rows)
        + f"\n{len(failures)} answers could not be read (counted wrong); {len(errors)} input errors.\n"
    )
    _write(out, result, rows, markdown)
    report.bar_chart(
        {c: v["accuracy"] for c, v in scores.items()},
        out / "scores.png",
        f"ScienceQA {split} accuracy ({variant} columns): {name}",
        "accuracy (%)",
        ymax=100,
    )
    return result


# ----------------------------------------------------------------------------- captions


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


def evaluate_captions(
    task: str,
    data: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    predictions: str | Path | None = None,
    split: str = "test",
    reference: str = "caption_no_index",
    images: str | Path | None = None,
    prompt: str | None = None,
    type_prompt: str = TYPE_PROMPT,
    figure_type: bool = True,
    decoding: Decoding | None = None,
    limit: int | None = None,
) -> dict:
    """Caption metrics (and figure-type accuracy) of a checkpoint or a prediction file on SciCap or VisText."""
    if (model is None) == (predictions is None):
        raise ValueError(
            "give either --model CKPT (to generate captions) or --predictions FILE (to score them)"
        )
    started = time.monotonic()
    out = Path(out)
    prompt = prompt or (VISTEXT_PROMPT if task == "vistext" else CAPTION_PROMPT)
    fmt, _ = cap.read_caption_data(task, data, split, reference, images)
    errors: list[dict] = []
    meta: dict[str, cap.CaptionItem] = {}

    def items() -> Iterator[cap.CaptionItem]:
        """Items in input order; errors and duplicates recorded on the way; images not kept."""
        for it in cap.read_caption_data(task, data, split, reference, images)[1]:
            if isinstance(it, cap.ReadError):
                errors.append(
                    {
                        "id": it.id,
                        "input": it.input,
                        "stage": "input",
                        "error": it.error,
                        "message": it.message,
                    }
                )
                continue
            if it.id in meta:
                errors.append(
                    {
                        "id": it.id,
                        "input": it.source,
                        "stage": "input",
                        "error": "duplicate_id",
                        "message": f"{it.id} appears twice; the second one was skipped",
                    }
                )
                continue
            if limit and len(meta) >= limit:
                return
            meta[it.id] = cap.CaptionItem(it.id, None, it.references, it.figure_type, it.source)
            yield it

    settings: dict = {
        "task": task,
        "data": str(data),
        "data_format": fmt,
        "split": split,
        "limit": limit,
        "caption_prompt": prompt,
        "type_prompt": type_prompt if figure_type else None,
        "reference": reference if task == "scicap" else "L1, L2L3, L1+L2L3",
    }
    found: dict[str, dict] = {}
    if predictions is not None:
        found = read_caption_predictions(predictions)
        for _ in items():
            pass
        settings["predictions"] = str(predictions)
        settings["ignored_predictions"] = len(set(found) - set(meta))
    else:
        decoding = _decoding(decoding, task)
        net, processor = load_checkpoint(model)
        settings.update(_model_settings(model, processor, net), decoding=decoding.as_dict())
        total = sum(
            1
            for it in cap.read_caption_data(task, data, split, reference, images)[1]
            if isinstance(it, cap.CaptionItem)
        )
        total = min(total, limit) if limit else total

        def requests() -> Iterator[Request]:
            for it in items():
                yield Request(f"caption\t{it.id}", prompt, it.image)
                if figure_type and it.figure_type:
                    yield Request(f"type\t{it.id}", type_prompt, it.image)

        n_requests = total * (2 if figure_type else 1)
        for g in generate(net, processor, requests(), decoding, total=n_requests, label=task):
            kind, item_id = g.id.split("\t", 1)
            slot = found.setdefault(item_id, {"text": None, "type_text": None})
            if g.text is None:
                errors.append(
                    {
                        "id": item_id,
                        "stage": "generate",
                        "error": "generation_failed",
                        "message": f"{kind}: {g.error}",
                    }
                )
            slot["text" if kind == "caption" else "type_text"] = g.text

    # Scoring: every item with a caption prediction, against each reference level.
    missing = [i for i in meta if not (found.get(i) or {}).get("text")]
    for i in missing:
        if not any(e["id"] == i for e in errors):
            errors.append(
                {"id": i, "stage": "predictions", "error": "no_prediction", "message": f"no caption for {i}"}
            )
    cleaned = {i: metrics.clean_prediction(found[i]["text"]) for i in meta if i not in missing}
    levels = sorted(
        {lvl for it in meta.values() for lvl in it.references}, key=["caption", "L1", "L2L3", "L1+L2L3"].index
    )
    caption_scores, per_sample = {}, {}
    versions_used: dict = {}
    for level in levels:
        refs = {i: meta[i].references.get(level) or [] for i in cleaned}
        scored = metrics.caption_scores(cleaned, refs)
        scored["scores"]["n_items"] = len(meta)
        caption_scores[level], per_sample[level] = scored["scores"], scored["per_sample"]
        versions_used = scored["versions"]

    types = None
    typed = [i for i in meta if meta[i].figure_type]
    parsed_types: dict[str, str | None] = {}
    if figure_type and typed:
        vocab = cap.type_vocabulary({meta[i].figure_type for i in typed})
        for i in typed:
            text = (found.get(i) or {}).get("type_text")
            parsed_types[i] = cap.parse_figure_type(text, vocab) if text else None
        types = metrics.classification_scores(
            [meta[i].figure_type for i in typed], [parsed_types[i] for i in typed]
        )

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
        for name, values in (per_sample.get(main) or {}).items():
            row[name] = values.get(i)
        rows.append(row)
    result = {
        "task": task,
        "settings": settings,
        "versions": {**versions(), "metrics": versions_used or metrics.metric_versions()},
        "metric_scales": metrics.METRIC_SCALES,
        "scores": {"captions": caption_scores, "figure_type": types},
        "errors": errors,
        "run": {"seconds": round(time.monotonic() - started, 2)},
    }
    name = Path(str(model or predictions)).name
    markdown = f"# {task} {split}: {name}\n\n" + report.caption_table(
        [(name, lvl, s) for lvl, s in caption_scores.items()]
    )
    if types:
        markdown += "\n" + report.type_table(name, types)
    markdown += f"\n{len(errors)} input or prediction errors (see results.json).\n"
    _write(out, result, rows, markdown)
    if main:
        shown = {
            k: caption_scores[main].get(k)
            for k in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "google_bleu_mean", "rougeL_mean")
        }
        report.bar_chart(
            shown,
            out / "scores.png",
            f"{task} {split} ({main} references): {name}",
            "score (0-1; CIDEr 0-10)",
        )
    if types and types["per_class"]:
        report.bar_chart(
            {k: v["f1"] for k, v in types["per_class"].items()},
            out / "figure_types.png",
            f"{task} figure-type F1: {name}",
            "F1",
            ymax=1.0,
        )
    return result


def evaluate(task: str, data: str | Path, out: str | Path, **kwargs) -> dict:
    """Dispatch on `task`: scienceqa, scicap or vistext."""
    if task == "scienceqa":
        allowed = {"model", "predictions", "prompt_format", "split", "scitune_variant", "decoding", "limit"}
        return evaluate_scienceqa(data, out, **{k: v for k, v in kwargs.items() if k in allowed})
    if task in ("scicap", "vistext"):
        allowed = {
            "model",
            "predictions",
            "split",
            "reference",
            "images",
            "prompt",
            "type_prompt",
            "figure_type",
            "decoding",
            "limit",
        }
        return evaluate_captions(task, data, out, **{k: v for k, v in kwargs.items() if k in allowed})
    raise ValueError(f"unknown task {task!r}: choose scienceqa, scicap or vistext")


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
