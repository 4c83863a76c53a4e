"""`scitune-curate`: thin typer wrappers around plain functions in this package."""

import os
import re
import shlex
import sys
from pathlib import Path

import typer

from .cli_help import App

app = App(
    help="Turn scientific papers (PDF, arXiv LaTeX sources) into validated figure and table records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

ARXIV_URL_DEFAULT = "https://export.arxiv.org"  # = arxiv.client.ARXIV_URL, kept out of start-up imports

# --- extract, validate (runner.py, scitune.schemas.validate) ---


def _license_choices(values: list[str]) -> set[str] | None:
    # lazy, like every command's imports here: `--help` starts without the arXiv client
    from .arxiv.licenses import license_choices

    return license_choices(values) or None


def _normalised(license: str | None) -> str | None:
    # lazy: see _license_choices
    from .arxiv.licenses import normalize_license

    return normalize_license(license)


def _arxiv_inputs(inputs: list[Path], arxiv_url: str, cache: Path | None, progress: bool) -> list[Path]:
    """`arxiv:ID` inputs downloaded into the cache, replaced by their files (metadata.jsonl beside)."""
    # lazy: the HTTP client (requests) loads only when arxiv:ID inputs are given
    from .arxiv.download import default_cache, fetch_inputs, split_arxiv_inputs

    paths, ids = split_arxiv_inputs(inputs)
    if not ids:
        return paths
    try:
        files, summary = fetch_inputs(ids, cache or default_cache(), arxiv_url, progress=progress)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    for line in summary.lines():
        typer.echo(line, err=True)
    return paths + files


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
    inputs: list[Path] = typer.Argument(
        ...,
        help="PDFs, arXiv source bundles (.tar.gz .tgz .tar .zip .gz), "
        "LaTeX source folders, or folders holding these (searched recursively); "
        "arxiv:ID downloads the paper first.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (a Hugging Face dataset folder)."),
    workers: int = typer.Option(os.cpu_count() or 1, help="Documents processed in parallel."),
    timeout: float = typer.Option(300.0, help="Seconds allowed per document before it becomes an error row."),
    dpi: int = typer.Option(150, min=36, max=600, help="Resolution of the rendered float images."),
    ocr: str = typer.Option(
        "auto",
        help="auto: the text layer's words, plus OCR of the raster parts of a float that have none (and of "
        "floats without any text layer); always: OCR of the whole rendered float; off: text layer only.",
    ),
    ocr_engine: str = typer.Option(
        "rapidocr",
        "--ocr-engine",
        help="OCR engine: rapidocr (installed with scitune) or tesseract (the Debian package tesseract-ocr).",
    ),
    force: bool = typer.Option(False, "--force", help="Redo everything instead of resuming."),
    licenses: list[str] = typer.Option(
        [],
        "--license",
        help="Extract only papers under this licence (repeatable; `permissive` = CC0/CC-BY/CC-BY-SA; "
        "`unknown` = none known). Decided before extraction, from arXiv metadata or --default-license.",
    ),
    default_license: str | None = typer.Option(
        None,
        "--default-license",
        help="Licence of inputs that arXiv metadata does not cover, when you know it (e.g. CC-BY-4.0).",
    ),
    metadata: list[Path] = typer.Option(
        [],
        "--metadata",
        help="arXiv metadata to join into the rows: a `download` metadata.jsonl or the arXiv snapshot "
        "(arxiv-metadata-oai-snapshot.json). A metadata.jsonl beside the inputs is joined by itself.",
    ),
    arxiv_url: str = typer.Option(ARXIV_URL_DEFAULT, "--arxiv-url", help="Base URL for arxiv:ID inputs."),
    cache: Path | None = typer.Option(
        None, help="Folder for arxiv:ID downloads (default $XDG_CACHE_HOME/scitune/arxiv)."
    ),
    pair: list[str] = typer.Option(
        [], help="Pair a PDF with its source explicitly: PAPER.pdf=SOURCE. Repeatable."
    ),
    max_memory: int = typer.Option(4096, help="Memory cap per worker process, in MB."),
    shard_rows: int = typer.Option(1000, min=1, help="Rows per Parquet shard; each shard is a resume point."),
    instructions: bool = typer.Option(
        False, "--instructions", help="Also build OUT/instructions afterwards."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    engine: str = typer.Option(
        "local", help="local: a process pool on this machine; ray: Ray tasks on a cluster (scitune[ray])."
    ),
    address: str | None = typer.Option(
        None,
        help="Ray cluster to join with --engine ray (e.g. ray://head:10001; default: local Ray or "
        "RAY_ADDRESS).",
    ),
    allow_empty: bool = typer.Option(
        False,
        "--allow-empty",
        help="Exit 0 even when no input was found or every input failed (default: exit 1 with a warning).",
    ),
) -> None:
    """Extract every captioned figure and table into OUT/figures (errors into OUT/errors).

    Re-running on the same OUT skips inputs already done (by content hash), also after a killed run.
    """
    # lazy: `--help` and the other commands start without pymupdf, the OCR engines and the worker pool
    from .ocr import ENGINES, engine_problem
    from .run_report import empty_run_problem
    from .runner import RunError, run_extract
    from .writer import STATE_DIR, foreign_folder_problem, shard_paths

    if ocr not in ("auto", "always", "off"):
        raise typer.BadParameter("--ocr must be auto, always or off")
    if ocr_engine not in ENGINES:
        raise typer.BadParameter(f"--ocr-engine must be one of: {', '.join(ENGINES)}")
    problem = foreign_folder_problem(out)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".scitune-write-test"
        probe.write_text("")
        probe.unlink()
        (out / STATE_DIR).mkdir(exist_ok=True)  # the marker: OUT is ours from now on
    except OSError as e:
        typer.echo(f"error: cannot write to {out}: {e}. Choose another --out.", err=True)
        raise typer.Exit(2) from None
    inputs = _arxiv_inputs(inputs, arxiv_url, cache, progress)
    try:
        summary = run_extract(
            inputs,
            out,
            workers=workers,
            timeout=timeout,
            dpi=dpi,
            ocr=ocr,
            ocr_engine=ocr_engine,
            force=force,
            license=_normalised(default_license),
            licenses=_license_choices(licenses),
            metadata=metadata,
            pairs=_parse_pairs(pair),
            max_memory_mb=max_memory,
            shard_rows=shard_rows,
            progress=progress,
            engine=engine,
            address=address,
        )
    except RunError as e:  # OUT in use, disk full, Ctrl-C, bad limits: one clear line, no traceback
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(e.code) from None
    for line in summary.lines():
        typer.echo(line, err=True)
    missing = engine_problem(ocr_engine) if ocr != "off" else None
    if missing:
        typer.echo(f"ocr: {missing}; floats were read from their text layer only.", err=True)
    for line in summary.error_groups.lines(out):
        typer.echo(line, err=True)
    empty = empty_run_problem(summary, inputs)
    if empty:
        typer.echo(f"\nWARNING: {empty}", err=True)
        if not allow_empty:
            typer.echo("(exit status 1; pass --allow-empty to accept an empty run)", err=True)
            raise typer.Exit(1)
    if instructions:
        # lazy: `--help` and the other commands start without datasets and pyarrow
        from .instructions import build_instructions

        for line in build_instructions(out, progress=progress).lines():
            typer.echo(line, err=True)
    table = "figures" if shard_paths(out, "figures") else "errors"
    typer.echo(f"wrote {out}/ (load with datasets.load_dataset({str(out)!r}, {table!r}))", err=True)


@app.command()
def download(
    ids: list[str] = typer.Argument(
        None,
        help="arXiv ids in any pasted form: 2307.01139, 2307.01139v2, arXiv:2307.01139, hep-th/9901001, "
        "https://arxiv.org/abs/2307.01139 (or a query / category instead).",
        show_default=False,
    ),
    out: Path = typer.Option(..., "--out", "-o", help="PAPERS folder: PDFs, sources and metadata.jsonl."),
    query: str | None = typer.Option(None, help="arXiv search query, e.g. 'cat:cs.CV AND ti:chart'."),
    categories: list[str] = typer.Option(
        [], "--category", help="Harvest a category (repeatable), e.g. cs.CV, with --from/--to."
    ),
    date_from: str | None = typer.Option(None, "--from", help="First submitted on or after (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="First submitted on or before (YYYY-MM-DD)."),
    licenses: list[str] = typer.Option(
        [],
        "--license",
        help="Download only papers under this licence (repeatable): CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0, ... "
        "or `permissive` (CC0, CC-BY, CC-BY-SA).",
    ),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Fetch the PDFs."),
    source: bool = typer.Option(True, "--source/--no-source", help="Fetch the LaTeX sources (e-prints)."),
    max_papers: int | None = typer.Option(None, "--max", min=1, help="Stop after this many papers."),
    snapshot: Path | None = typer.Option(
        None,
        "--metadata",
        help="Choose papers from the arXiv metadata snapshot (arxiv-metadata-oai-snapshot.json) instead of "
        "asking the API: ids, --category, --from/--to and --license apply to it.",
    ),
    arxiv_url: str = typer.Option(
        ARXIV_URL_DEFAULT, "--arxiv-url", help="Base URL (/api/query, /oai2, /pdf/ID, /e-print/ID)."
    ),
    delay: float = typer.Option(
        3.0, help="Seconds between requests; arXiv asks for at least 3 (less only for a mirror's URL)."
    ),
    contact: str | None = typer.Option(None, help="E-mail put in the User-Agent, so arXiv can reach you."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Download arXiv papers (PDF + LaTeX source) and their metadata and licences into PAPERS.

    One request at a time, `--delay` seconds apart, retrying politely on 429/503. Re-running skips the
    papers already complete. Then: `scitune-curate extract PAPERS -o OUT`.
    """
    from .arxiv.download import Selection
    from .arxiv.download import download as run_download
    from .arxiv.snapshot import SnapshotError

    ids = ids or []
    chosen = sum(map(bool, (ids, query, categories)))
    if chosen != 1 and not (snapshot and chosen <= 1):
        raise typer.BadParameter("give arXiv IDS, or --query Q, or --category C (with --from/--to): one only")
    for name, value in (("--from", date_from), ("--to", date_to)):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise typer.BadParameter(f"{name} {value!r}: write the date as YYYY-MM-DD")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        typer.echo(f"error: cannot write to {out}: {e}. Choose another --out.", err=True)
        raise typer.Exit(2) from e
    sel = Selection(
        ids=ids,
        query=query,
        categories=categories,
        date_from=date_from,
        date_to=date_to,
        snapshot=snapshot,
        licenses=_license_choices(licenses),
        max_papers=max_papers,
    )
    try:
        summary = run_download(
            out, sel, arxiv_url, delay, pdf=pdf, source=source, contact=contact, progress=progress
        )
    except SnapshotError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    except ValueError as e:  # a delay below arXiv's limit for arXiv's host
        raise typer.BadParameter(str(e)) from e
    for line in summary.lines():
        typer.echo(line, err=True)
    typer.echo(f"wrote {out}/ (next: scitune-curate extract {out} -o OUT)", err=True)


@app.command()
def validate(out: Path = typer.Argument(..., help="An extract output folder.")) -> None:
    """Check every row of OUT against the schema; exit 0 only when all rows obey it."""
    # lazy: `--help` and the other commands start without datasets and pyarrow
    from ..schemas import validate_folder

    report = validate_folder(out)
    for problem in report.problems:
        typer.echo(problem, err=True)
    counts = ", ".join(f"{table}: {n}" for table, n in report.rows.items())
    typer.echo(
        f"{'OK' if report.ok else 'INVALID'}: {counts}"
        + ("" if report.ok else f"; {len(report.problems)} problems")
    )
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def review(
    out: Path = typer.Argument(..., help="An extract output folder."),
    dest: Path | None = typer.Option(
        None, "--output", "-o", help="Folder to write the site into (default: OUT/review)."
    ),
    inputs_root: list[Path] = typer.Option(
        [],
        "--inputs-root",
        help="Folder that the input paths of extract were relative to, when not the current one "
        "(repeatable); page thumbnails are drawn from the PDFs found there.",
    ),
    serve_site: bool = typer.Option(
        False, "--serve", help="Then serve the site on http://127.0.0.1:PORT/ until Ctrl-C."
    ),
    port: int = typer.Option(8000, help="Port for --serve (0: any free port)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Write a static HTML review site of OUT: each crop with its page, caption, type, OCR words, mentions.

    Open DEST/index.html from disk (no server needed). Reject rows on the page, download the list, then
    `scitune-curate filter OUT -o CLEAN --exclude rejected.txt`.
    """
    # lazy: the review site needs Pillow and pyarrow, which other commands need not load
    from .review import build_review, serve

    dest = dest or out / "review"
    try:
        stats = build_review(out, dest, inputs_root=inputs_root, progress=progress)
    except (FileExistsError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo(
            f"\ninterrupted: the site in {dest} is incomplete. Run the same command again "
            "(thumbnails already written are kept).",
            err=True,
        )
        raise typer.Exit(130) from None
    for line in stats.lines(dest):
        typer.echo(line, err=True)
    if serve_site:
        serve(dest, port, log=lambda line: typer.echo(line, err=True))


@app.command()
def errors(
    out: Path = typer.Argument(..., help="An extract output folder."),
    stage: list[str] = typer.Option([], "--stage", help="Only this stage (repeatable), e.g. open."),
    reason: list[str] = typer.Option([], "--reason", help="Only this error code (repeatable)."),
) -> None:
    """Print every error row of OUT, grouped by stage and reason (input, float and message of each)."""
    from .run_report import print_all_errors

    if not (out / "errors").is_dir():
        typer.echo(f"error: {out}/errors does not exist: is {out} an extract output folder?", err=True)
        raise typer.Exit(2)
    for line in print_all_errors(out, set(stage), set(reason)):
        typer.echo(line)


# --- instructions, export, push-to-hub (instructions.py, exports.py, hub.py) ---


def _command_line() -> str:
    return shlex.join(["scitune-curate", *sys.argv[1:]])


def _criteria(
    types: list[str],
    kinds: list[str],
    licenses: list[str],
    min_words: int | None,
    max_words: int | None,
    dedupe: bool,
):
    # lazy: `--help` and the other commands start without pyarrow and PIL
    from .filters import Criteria

    try:
        return Criteria(
            figure_types=set(types) or None,
            kinds=set(kinds) or None,
            licenses=set(licenses) or None,
            min_words=min_words,
            max_words=max_words,
            dedupe=dedupe,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


TYPE_OPT = typer.Option([], "--type", help="Keep only this figure type (repeatable), e.g. line_plot.")
KIND_OPT = typer.Option([], "--kind", help="Keep only figures or tables: figure | table (repeatable).")
LICENSE_OPT = typer.Option(
    [],
    "--license",
    help="Keep only this licence (repeatable), e.g. CC-BY-4.0; `permissive` = CC0, CC-BY, CC-BY-SA; "
    "`unknown` keeps rows without one.",
)
MIN_WORDS_OPT = typer.Option(None, "--min-words", help="Keep captions of at least this many words.")
MAX_WORDS_OPT = typer.Option(None, "--max-words", help="Keep captions of at most this many words.")
DEDUPE_OPT = typer.Option(
    False,
    "--dedupe",
    help="Drop exact duplicate images (same pixels), keeping the copy from the latest arXiv version.",
)


@app.command()
def instructions(
    out: Path = typer.Argument(..., help="An extract output folder (with OUT/figures)."),
    task: list[str] = typer.Option(
        [],
        "--task",
        help="Task to build (repeatable; default all): caption, ctom, "
        "figure_type, ocr, mention, caption_with_context.",
    ),
    seed: int = typer.Option(0, help="Seed of the template choice; the same seed gives the same rows."),
    template: str = typer.Option(
        "1", "--template", help="Version of the template pool (curate/templates/vN.yaml)."
    ),
    types: list[str] = TYPE_OPT,
    kinds: list[str] = KIND_OPT,
    licenses: list[str] = LICENSE_OPT,
    min_words: int | None = MIN_WORDS_OPT,
    max_words: int | None = MAX_WORDS_OPT,
    dedupe: bool = DEDUPE_OPT,
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Build OUT/instructions (SciTune's instruction tasks) from OUT/figures; replaces earlier ones."""
    # lazy: `--help` and the other commands start without datasets and pyarrow
    from .instructions import TASKS, build_instructions

    if not any((out / "figures").glob("*.parquet")):
        typer.echo(
            f"error: {out}/figures holds no shards: run `scitune-curate extract ... -o {out}` first.",
            err=True,
        )
        raise typer.Exit(2)
    criteria = _criteria(types, kinds, licenses, min_words, max_words, dedupe)
    try:
        stats = build_instructions(
            out,
            tasks=task or TASKS,
            seed=seed,
            template_version=template,
            where=criteria.predicate(out) if criteria.active else None,
            progress=progress,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    for line in stats.lines():
        typer.echo(line, err=True)


@app.command("export")
def export_cmd(
    fmt: str = typer.Argument(..., help="llava | messages | prompt-completion | scicap | scicap-2021"),
    out: Path = typer.Argument(..., help="An extract output folder."),
    dest: Path = typer.Option(..., "--output", "-o", help="Folder to write the export into."),
    task: list[str] = typer.Option(
        [],
        "--task",
        help="Export only this instruction task (repeatable); e.g. --task ctom for SciTune's stage 1.",
    ),
    licenses: list[str] = LICENSE_OPT,
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Export OUT to LLaVA JSON, TRL messages / prompt-completion Parquet or SciCap (Challenge, 2021) JSON."""
    # lazy: `--help` and the other commands start without datasets and pyarrow
    from .exports import NothingToExport, export

    try:
        chosen = _license_choices(licenses)
        stats = export(fmt, out, dest, tasks=task or None, progress=progress, licenses=chosen)
    except NothingToExport as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    for line in stats.lines():
        typer.echo(line, err=True)


@app.command("filter")
def filter_cmd(
    out: Path = typer.Argument(..., help="An extract output folder."),
    dest: Path = typer.Option(
        ..., "--output", "-o", help="New dataset folder for the kept rows (OUT is unchanged)."
    ),
    types: list[str] = TYPE_OPT,
    kinds: list[str] = KIND_OPT,
    licenses: list[str] = LICENSE_OPT,
    min_words: int | None = MIN_WORDS_OPT,
    max_words: int | None = MAX_WORDS_OPT,
    dedupe: bool = DEDUPE_OPT,
    exclude: Path | None = typer.Option(
        None,
        "--exclude",
        help="Drop the figure ids listed in this file, one per line (the reject list of `review`).",
    ),
    with_instructions: bool = typer.Option(False, "--instructions", help="Also build DEST/instructions."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Write the figure rows of OUT that pass the filters into a new dataset folder DEST, with its card."""
    # lazy: `--help` and the other commands start without datasets and huggingface_hub
    from .card import write_card
    from .filters import filter_folder
    from .review import read_reject_list
    from .writer import STATE_DIR, foreign_folder_problem

    problem = foreign_folder_problem(dest)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    criteria = _criteria(types, kinds, licenses, min_words, max_words, dedupe)
    if exclude is not None:
        try:
            criteria.exclude = read_reject_list(exclude)
        except (OSError, UnicodeDecodeError) as e:
            typer.echo(f"error: cannot read --exclude {exclude}: {e}", err=True)
            raise typer.Exit(2) from None
    try:
        stats = filter_folder(out, dest, criteria, progress)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    (dest / STATE_DIR).mkdir(exist_ok=True)  # marks DEST as a scitune folder (re-filtering into it is fine)
    write_card(dest, command=_command_line())
    if with_instructions:
        # lazy: `--help` and the other commands start without datasets and pyarrow
        from .instructions import build_instructions

        for line in build_instructions(dest, progress=progress).lines():
            typer.echo(line, err=True)
    for line in stats.lines():
        typer.echo(line, err=True)
    typer.echo(f"wrote {dest}/", err=True)


@app.command("push-to-hub")
def push_to_hub_cmd(
    out: Path = typer.Argument(..., help="An extract output folder."),
    repo_id: str = typer.Argument(
        ..., help="Dataset repo on the Hub: user/name or org/name (created if missing)."
    ),
    private: bool = typer.Option(False, "--private", help="Create the repo private."),
    revision: str | None = typer.Option(None, "--revision", help="Branch to push to (created if missing)."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Hub token with write access (default: HF_TOKEN or the saved `hf auth login`).",
        show_default=False,
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be sent; change nothing."),
) -> None:
    """Publish OUT (card, shards, charts) to a Hub dataset repo in one commit; unchanged folders send
    nothing."""
    # lazy: `--help` and the other commands start without huggingface_hub
    from .hub import push_to_hub

    try:
        result = push_to_hub(
            out,
            repo_id,
            private=private,
            revision=revision,
            token=token,
            dry_run=dry_run,
            log=lambda line: typer.echo(line, err=True),
        )
    except Exception as e:  # noqa: BLE001 - one clear line for the user, the token scrubbed
        message = str(e).replace(token, "***") if token else str(e)
        hint = ""
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status in (401, 403):
            hint = " Check that the token has write access (--token or HF_TOKEN, or `hf auth login`)."
        elif status == 412:
            hint = " The repo changed while pushing: run the command again."
        typer.echo(f"error: push to {repo_id} failed: {type(e).__name__}: {message}{hint}", err=True)
        raise typer.Exit(1) from None
    for line in result.lines():
        typer.echo(line)


if __name__ == "__main__":
    app()
