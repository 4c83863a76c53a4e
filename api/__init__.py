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
    `subfigure_images`) decoded to PIL images. It is the command's own run (each document in a worker
    process under `timeout` seconds) into a scratch folder that is deleted afterwards. Inputs or floats
    that fail are not records: with on_error="warn" (default) a warning gives each reason, "raise"
    raises `ExtractError`, "ignore" says nothing. For many papers, use `scitune-curate extract`
    (parallel, resumable).
    """
    # Imported here: `import scitune` must stay cheap (no PDF engine, no datasets) for the CLIs.
    import pyarrow.parquet as pq

    from scitune.curate.runner import run_extract
    from scitune.curate.writer import shard_paths
    from scitune.schemas import FIGURE_FEATURES

    if on_error not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_error must be warn, raise or ignore, not {on_error!r}")
    if not paths:
        raise ValueError("give at least one path: scitune.extract('paper.pdf')")
    # The command's own run, into a scratch OUT: the same rows as `scitune-curate extract` (pairing,
    # join, arXiv metadata beside the inputs, paper ids), read back and decoded.
    with tempfile.TemporaryDirectory(prefix="scitune-extract-") as scratch:
        out = Path(scratch) / "out"
        summary = run_extract(
            [Path(p) for p in paths],
            out,
            workers=1,
            timeout=timeout,
            dpi=dpi,
            ocr=ocr,
            license=license,
            progress=False,
            command="scitune.extract()",
        )
        records = [
            FIGURE_FEATURES.decode_example(row)
            for path in shard_paths(out, "figures")
            for row in pq.read_table(path).to_pylist()
        ]
        errors = [row for path in shard_paths(out, "errors") for row in pq.read_table(path).to_pylist()]
    if summary.documents == 0 and summary.unusable == 0:
        errors.append(
            {
                "input": ", ".join(map(str, paths)),
                "figure_id": None,
                "stage": "input",
                "message": "no PDF, arXiv source bundle or LaTeX source folder found",
            }
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
