"""`scitune-curate`: thin typer wrappers around plain functions in this package."""

import typer

app = typer.Typer(
    help="Turn scientific papers (PDF, arXiv LaTeX sources) into validated figure and table records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# --- extract, validate (runner.py, scitune.schemas.validate) ---

# --- instructions, export, push-to-hub (instructions.py, exports.py, hub.py) ---


if __name__ == "__main__":
    app()
