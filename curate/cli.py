"""`scitune-curate`: thin typer wrappers around plain functions in this package."""

import os
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Turn scientific papers (PDF, arXiv LaTeX sources) into validated figure and table records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# --- extract, validate (runner.py, scitune.schemas.validate) ---


def _parse_pairs(pairs: list[str]) -> dict[Path, Path]:
    parsed = {}
    for item in pairs:
        pdf, sep, source = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: write --pair PAPER.pdf=SOURCE (a folder or a bundle)")
        parsed[Path(pdf)] = Path(source)
    return parsed


@app.command()
def extract(
    inputs: list[Path] = typer.Argument(..., help="PDFs, arXiv source bundles (.tar.gz .tgz .tar .zip .gz), "
                                        "LaTeX source folders, or folders holding these (searched recursively)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (a Hugging Face dataset folder)."),
    workers: int = typer.Option(os.cpu_count() or 1, help="Documents processed in parallel."),
    timeout: float = typer.Option(300.0, help="Seconds allowed per document before it becomes an error row."),
    dpi: int = typer.Option(150, min=36, max=600, help="Resolution of the rendered float images."),
    ocr: str = typer.Option("auto", help="auto: text layer, OCR where a float has none (needs the [ocr] "
                            "extra); off: text layer only."),
    force: bool = typer.Option(False, "--force", help="Redo everything instead of resuming."),
    license: Optional[str] = typer.Option(None, help="Licence of all inputs, when known (e.g. CC-BY-4.0)."),
    pair: list[str] = typer.Option([], help="Pair a PDF with its source explicitly: PAPER.pdf=SOURCE. Repeatable."),
    max_memory: int = typer.Option(4096, help="Memory cap per worker process, in MB."),
    instructions: bool = typer.Option(False, "--instructions", help="Also build OUT/instructions afterwards."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Extract every captioned figure and table into OUT/figures (errors into OUT/errors).

    Re-running on the same OUT skips inputs already done (by content hash), also after a killed run.
    """
    from scitune.curate.runner import run_extract

    if ocr not in ("auto", "off"):
        raise typer.BadParameter("--ocr must be auto or off")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".scitune-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        typer.echo(f"error: cannot write to {out}: {e}. Choose another --out.", err=True)
        raise typer.Exit(2)
    summary = run_extract(inputs, out, workers=workers, timeout=timeout, dpi=dpi, ocr=ocr, force=force,
                          license=license, pairs=_parse_pairs(pair), max_memory_mb=max_memory, progress=progress)
    if instructions:
        from scitune.curate.instructions import build_instructions

        build_instructions(out)
    for line in summary.lines():
        typer.echo(line, err=True)
    typer.echo(f"wrote {out}/ (load with datasets.load_dataset({str(out)!r}, 'figures'))", err=True)


@app.command()
def validate(out: Path = typer.Argument(..., help="An extract output folder.")) -> None:
    """Check every row of OUT against the schema; exit 0 only when all rows obey it."""
    from scitune.schemas import validate_folder

    report = validate_folder(out)
    for problem in report.problems:
        typer.echo(problem, err=True)
    counts = ", ".join(f"{table}: {n}" for table, n in report.rows.items())
    typer.echo(f"{'OK' if report.ok else 'INVALID'}: {counts}" + ("" if report.ok else f"; {len(report.problems)} problems"))
    raise typer.Exit(0 if report.ok else 1)

# --- instructions, export, push-to-hub (instructions.py, exports.py, hub.py) ---


if __name__ == "__main__":
    app()
