"""`scitune-train`: thin typer wrappers around plain functions in this package.

Each command parses its options and calls one function; the work happens elsewhere
(`loop.py` for finetune, `evaluate.py` for evaluate and compare).
"""

import os

import typer

from .config import ConfigError, load_config

app = typer.Typer(
    help="Train and evaluate LLaVA-style models on scitune instruction data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# --- finetune (train/loop.py) ---


@app.command()
def finetune(
    config: str = typer.Argument(None, help="A preset (tiny-cpu, scitune-7b, scitune-13b) or a YAML file."),
    config_opt: str = typer.Option(None, "--config", "-c", help="Same as the CONFIG argument."),
    data: str = typer.Option(
        None,
        "--data",
        help="Training data of every stage: a scitune OUT folder "
        "(its instructions/), Parquet files, a LLaVA conversation JSON, or a Hub id.",
    ),
    output: str = typer.Option(None, "--output", "-o", help="Run folder (default: train.output)."),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        help="Override a setting: --set instruct.lr=1e-4 "
        "--set data.max_length=1024 (repeatable; dotted config keys).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --output from its checkpoint."),
) -> None:
    """Train a LLaVA-style model: SciTune's stages (align: the projector; instruct: LLM + projector).

    Writes OUTPUT/<stage>/model (a transformers checkpoint + processor), checkpoints/, metrics.jsonl.

    Several GPUs: torchrun --nproc_per_node=8 $(which scitune-train) finetune scitune-7b --data ...
    """
    # lazy: `--help`, evaluate and compare start without torch and transformers
    from .loop import close_distributed
    from .loop import finetune as run

    if config and config_opt:
        raise typer.BadParameter("give the config once: as an argument or with --config")
    extra = ([f"data.path={data}"] if data else []) + ([f"train.output={output}"] if output else [])
    try:
        cfg = load_config(config or config_opt, list(overrides) + extra)
        path = run(cfg, resume=resume)
    except (ConfigError, ValueError, FileNotFoundError, FileExistsError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    finally:
        close_distributed()
    if path is not None and os.environ.get("RANK", "0") == "0":
        typer.echo(f"model saved to {path} (load it with scitune.train.model.load_model)")


# --- evaluate, compare (train/evaluate.py) ---
from pathlib import Path  # noqa: E402


@app.command()
def evaluate(
    task: str = typer.Option(..., "--task", help="Benchmark: scienceqa, scicap or vistext."),
    data: Path = typer.Option(
        ...,
        "--data",
        help="ScienceQA: folder with problems.json (+ pid_splits.json, images/), "
        "a problems JSON, or Hub Parquet. scicap: SciCap JSON file/folder, a SciCap Challenge "
        "JSON, or a scitune OUT folder (figures/). vistext: data_{split}.json or its folder.",
    ),
    out: Path = typer.Option(
        ..., "-o", "--out", help="Results folder (results.json, predictions.jsonl, results.md, PNG)."
    ),
    model: Path | None = typer.Option(None, "--model", help="Checkpoint folder to generate answers with."),
    predictions: Path | None = typer.Option(
        None,
        "--predictions",
        help="Score this prediction file instead of "
        "generating: LLaVA JSONL answers ({question_id, text}; captions may "
        "add type_text), {pid: index} (ScienceQA results), or {id: text}.",
    ),
    prompt_format: str = typer.Option(
        "CQM-A", "--prompt-format", help="ScienceQA prompt: CQM-A, QCM-LEA or QCM-LEPA."
    ),
    scitune_variant: bool = typer.Option(
        False,
        "--scitune-variant",
        help="ScienceQA columns as SciTune defined them "
        "(TXT = no image, NO = no hint, grade groups = mean of per-grade accuracy).",
    ),
    max_new_tokens: int | None = typer.Option(
        None, "--max-new-tokens", help="Default: 16 for CQM-A, 512 for QCM-LEA/LEPA, 128 for captions."
    ),
    batch_size: int = typer.Option(
        8, "--batch-size", min=1, help="Requests per generate call (left padded)."
    ),
    split: str = typer.Option(
        "test",
        "--split",
        help="Split to evaluate (ScienceQA: train/val/test; VisText: train/validation/test).",
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Evaluate only the first N items."),
    stop: list[str] = typer.Option(
        [], "--stop", help="Stop string (repeatable); the end-of-turn token always stops."
    ),
    do_sample: bool = typer.Option(False, "--do-sample", help="Sample instead of greedy decoding."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature (with --do-sample)."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (with --do-sample)."),
    reference: str = typer.Option(
        "caption_no_index",
        "--reference",
        help="SciCap reference caption: caption_no_index, original, lowercase, basic-num or advanced.",
    ),
    images: Path | None = typer.Option(
        None, "--images", help="Folder holding the images, when not beside the data."
    ),
    prompt: str | None = typer.Option(
        None,
        "--prompt",
        help="Caption instruction (default: the first caption "
        "template of scitune's instruction pool); `<image>` marks the image.",
    ),
    figure_type: bool = typer.Option(
        True, "--figure-type/--no-figure-type", help="Also ask for and score the figure type."
    ),
) -> None:
    """Evaluate a checkpoint (or score a prediction file) on ScienceQA, SciCap or VisText."""
    # lazy: `--help` and the other commands start without torch and transformers
    from .evaluate import evaluate as run_evaluation
    from .evaluate import summary
    from .generate import Decoding

    decoding = Decoding(
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        stop=tuple(stop),
        do_sample=do_sample,
        temperature=temperature,
        seed=seed,
    )
    try:
        result = run_evaluation(
            task,
            data,
            out,
            model=model,
            predictions=predictions,
            prompt_format=prompt_format,
            split=split,
            scitune_variant=scitune_variant,
            decoding=decoding,
            limit=limit,
            reference=reference,
            images=images,
            prompt=prompt,
            figure_type=figure_type,
        )
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(summary(result))
    typer.echo(f"results in {out}/ (results.json, results.md, predictions.jsonl, scores.png)")


@app.command()
def compare(
    results: list[Path] = typer.Argument(None, help="results.json files written by `evaluate`."),
    published: bool = typer.Option(
        False,
        "--published",
        help="Add the published ScienceQA rows (SciTune 13B/7B, LLaVA 13B, GPT-3 CoT, human).",
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="Also write the Markdown to this file."),
) -> None:
    """Put several result files side by side (Markdown), optionally with the published rows."""
    # lazy: `--help` and the other commands start without pyarrow
    from .report import compare as build

    if not results and not published:
        typer.echo("error: give results.json files, or --published", err=True)
        raise typer.Exit(2)
    try:
        markdown = build(results or [], published=published)
    except (ValueError, FileNotFoundError, KeyError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if out:
        out.write_text(markdown, encoding="utf-8")
    typer.echo(markdown)


@app.command("prepare-scienceqa")
def prepare_scienceqa(
    data: Path = typer.Argument(
        ...,
        help="ScienceQA: official folder (problems.json, pid_splits.json, images/), "
        "a problems JSON, or the Hub Parquet copy.",
    ),
    out: Path = typer.Option(
        ..., "-o", "--out", help="Output folder for `scitune-train finetune --data OUT`."
    ),
    split: str = typer.Option("train", "--split", help="train, val, test (or minitrain, ...)."),
    prompt_format: str = typer.Option(
        "QCM-LEPA", "--prompt-format", help="CQM-A, QCM-LEA or QCM-LEPA (SciTune: QCM-LEPA)."
    ),
    kind: str = typer.Option(
        "instructions", "--as", help="instructions (Parquet rows) or llava (conversation JSON)."
    ),
) -> None:
    """Write a ScienceQA split in one of LLaVA's prompt formats as training data."""
    # lazy: `--help` and the other commands start without pyarrow
    from .scienceqa import export

    try:
        result = export(data, out, split=split, fmt=prompt_format, kind=kind)
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for e in result["errors"][:20]:
        typer.echo(f"skipped {e['message']}", err=True)
    typer.echo(f"{result['written']} questions written to {result['path']}; {len(result['errors'])} skipped")


if __name__ == "__main__":
    app()
