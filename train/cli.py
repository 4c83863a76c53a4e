"""`scitune-train`: thin typer wrappers around plain functions in this package.

Each command parses its options and calls one function; the work happens elsewhere
(`loop.py` for finetune, `evaluate.py` for evaluate and compare).
"""

import typer

app = typer.Typer(
    help="Train and evaluate LLaVA-style models on scitune instruction data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# --- finetune (train/loop.py) ---

# --- evaluate, compare (train/evaluate.py) ---


if __name__ == "__main__":
    app()
