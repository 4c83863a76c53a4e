"""scitune: figures and tables of scientific papers as multimodal instruction data (a rebuild of SciTune).

The Python API for notebooks; the command lines are `scitune-curate` and `scitune-train`.

    import scitune

    records = scitune.extract("paper.pdf")           # or a LaTeX source, a bundle, a folder, several paths
    records[0]["figure_id"], records[0]["caption"]   # one dict per figure or table, the `figures` schema
    records[0]["image"]                              # a PIL image

    figures = scitune.load("out/")                   # an extract output folder -> datasets.Dataset
    errors = scitune.load("out/", "errors")

This package file is all that ships at the top of `scitune`: the work is in `scitune.curate`,
`scitune.train` and `scitune.schemas` (mapped from the repository's curate/, train/ and schemas/).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

__all__ = ["ExtractError", "extract", "load"]


class ExtractError(RuntimeError):
    """`extract(..., on_error="raise")` when an input or a float failed; `.errors` holds the error rows."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        first = errors[0]
        where = f"{first['input']} ({first['stage']})"
        super().__init__(f"{len(errors)} inputs or floats failed; first: {where}: {first['message']}")


def extract(
    *paths: str | Path,
    ocr: str = "auto",
    dpi: int = 150,
    timeout: float = 300.0,
    license: str | None = None,
    on_error: str = "warn",
) -> list[dict]:
    """Extract every captioned figure and table of the inputs; one record (dict) per float.

    `paths` are what `scitune-curate extract` takes: PDFs, arXiv source bundles, LaTeX source folders,
    folders holding these (a PDF and its source of the same stem are joined into `pdf+latex` records).
    Records follow the `figures` schema (`scitune.schemas.FIGURE_FEATURES`), with `image` (and
    `subfigure_images`) decoded to PIL images. Each document runs in a worker process under `timeout`
    seconds, as in the command line. Inputs or floats that fail are not records: with on_error="warn"
    (default) a warning gives each reason, "raise" raises `ExtractError`, "ignore" says nothing.
    Nothing is written; for many papers, use `scitune-curate extract` (parallel, resumable).
    """
    # Imported here: `import scitune` must stay cheap (no PDF engine, no datasets) for the CLIs.
    from scitune.curate.document import Options, error_row
    from scitune.curate.inputs import assign_paper_ids, plan_inputs
    from scitune.curate.runner import run_documents
    from scitune.schemas import FIGURE_FEATURES

    if on_error not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_error must be warn, raise or ignore, not {on_error!r}")
    if not paths:
        raise ValueError("give at least one path: scitune.extract('paper.pdf')")
    plan = plan_inputs([Path(p) for p in paths])
    errors = [error_row(p.input, p.sha256, p.stage, p.error, p.message) for p in plan.problems]
    records: list[dict] = []
    assign_paper_ids(plan.documents, {})
    with tempfile.TemporaryDirectory(prefix="scitune-extract-") as scratch:
        opts = Options(dpi=dpi, ocr=ocr, license=license, workdir=Path(scratch))
        order = {doc.key: i for i, doc in enumerate(plan.documents)}
        results = sorted(
            run_documents(plan.documents, opts, workers=1, timeout=timeout, max_memory_mb=4096),
            key=lambda r: order[r.key],
        )
    for result in results:
        records += [FIGURE_FEATURES.decode_example(FIGURE_FEATURES.encode_example(r)) for r in result.figures]
        errors += result.errors
    if not plan.documents and not plan.problems:
        errors.append(
            error_row(", ".join(map(str, paths)), None, "input", "no_input", "no PDF or LaTeX source found")
        )
    if errors and on_error == "raise":
        raise ExtractError(errors)
    if errors and on_error == "warn":
        for e in errors:
            where = e.get("figure_id") or e["input"]
            warnings.warn(f"scitune.extract: {where} ({e['stage']}): {e['message']}", stacklevel=2)
    return records


def load(out: str | Path, config: str = "figures", split: str = "train"):
    """A table of an extract output folder (`figures`, `instructions` or `errors`) as a `datasets.Dataset`.

    The same as `datasets.load_dataset(str(out), config, split=split)`: offline, images decode to PIL.
    """
    import datasets  # heavy: only when loading

    out = Path(out)
    if not (out / config).is_dir() or not any((out / config).glob("*.parquet")):
        raise FileNotFoundError(
            f"{out}/{config} holds no Parquet shards: run `scitune-curate extract ... -o {out}` "
            + ("then `scitune-curate instructions`" if config == "instructions" else "first")
        )
    return datasets.load_dataset(str(out), config, split=split)
