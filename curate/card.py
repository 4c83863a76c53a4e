"""The dataset card: `OUT/README.md` and its charts, written from whatever data OUT holds.

The YAML header is what the Hub and `datasets.load_dataset(OUT, "figures")` read (`configs:` with
`data_files`, `dataset_info` features derived from `scitune.schemas`); the body is the human summary.
Statistics are gathered by streaming small column batches over the shards (images are never read),
so writing the card costs little memory however large OUT is. An empty or partial OUT still gets a
valid card.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from datasets import Features, Image, LargeList, List, Sequence, Value
from datasets.info import DatasetInfo, DatasetInfosDict
from huggingface_hub import DatasetCardData

from ..schemas import (
    ERROR_COLUMNS,
    FIGURE_COLUMNS,
    FIGURE_TYPES,
    INSTRUCTION_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    extractor_version,
)
from .arxiv.licenses import dataset_license_text
from .writer import shard_paths

TABLE_ORDER = ("figures", "instructions", "errors")
COLUMN_DOCS = {"figures": FIGURE_COLUMNS, "instructions": INSTRUCTION_COLUMNS, "errors": ERROR_COLUMNS}
ASSETS = "assets"  # chart PNGs, referenced from the card with relative links
# The local card shows this path in its loading snippet; `card_for_repo` swaps in the Hub repo id.
LOAD_PLACEHOLDER = "path/to/OUT"
COMMAND_LINE = "- Command: `"  # how the card records the command; read back by `recorded_command`
# Caption length histogram bins, in words (the last bin is open-ended).
LENGTH_BINS = (0, 5, 10, 20, 30, 50, 75, 100, 150, 200)

# Normalised licence names (as the extractor writes them) -> Hub licence identifiers.
# Anything not listed is published as `other` and named in the card body.
HUB_LICENSES = {
    "cc0-1.0": "cc0-1.0",
    "cc-by-4.0": "cc-by-4.0",
    "cc-by-3.0": "cc-by-3.0",
    "cc-by-sa-4.0": "cc-by-sa-4.0",
    "cc-by-sa-3.0": "cc-by-sa-3.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "cc-by-nc-sa-3.0": "cc-by-nc-sa-3.0",
    "cc-by-nc-nd-4.0": "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0": "cc-by-nd-4.0",
    "mit": "mit",
    "apache-2.0": "apache-2.0",
    "bsd-3-clause": "bsd-3-clause",
    "gpl-3.0": "gpl-3.0",
    "agpl-3.0": "agpl-3.0",
    "unlicense": "unlicense",
}

SCITUNE_BIBTEX = """@article{horawalavithana2023scitune,
  title   = {SciTune: Aligning Large Language Models with Human-Curated Scientific Multimodal Instructions},
  author  = {Horawalavithana, Sameera and Munikoti, Sai and Stewart, Ian and Kvinge, Henry},
  journal = {arXiv preprint arXiv:2307.01139},
  year    = {2023}
}"""


@dataclass
class Stats:
    """What the card reports, gathered in one streaming pass over OUT."""

    rows: dict[str, int] = field(default_factory=dict)
    shards: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)  # size of the table's shards on disk
    by_source: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    caption_words: Counter = field(default_factory=Counter)  # length in words -> number of captions
    paper_license: dict[str, str] = field(default_factory=dict)  # paper_id -> licence ("unknown" if none)
    rows_by_license: Counter = field(default_factory=Counter)
    by_task: Counter = field(default_factory=Counter)
    template_versions: Counter = field(default_factory=Counter)
    by_stage: Counter = field(default_factory=Counter)
    by_error: Counter = field(default_factory=Counter)

    @property
    def papers_by_license(self) -> Counter:
        return Counter(self.paper_license.values())


def _batches(path: Path, columns: list[str]):
    """Yield dict-of-lists batches of the wanted columns that the shard has (others come as None)."""
    pf = pq.ParquetFile(path)
    present = [c for c in columns if c in pf.schema_arrow.names]
    if not present:
        for _ in range(pf.metadata.num_rows):
            yield {c: [None] for c in columns}
        return
    for batch in pf.iter_batches(batch_size=1024, columns=present):
        data = batch.to_pydict()
        for c in columns:
            data.setdefault(c, [None] * batch.num_rows)
        yield data


def collect_stats(out: Path) -> Stats:
    """Stream over every shard of OUT and count what the card shows; unreadable shards are skipped."""
    stats = Stats()
    for table in TABLE_ORDER:
        paths = shard_paths(out, table)
        stats.shards[table] = len(paths)
        stats.bytes[table] = sum(p.stat().st_size for p in paths)
        stats.rows[table] = 0
        for path in paths:
            try:
                _count_shard(stats, table, path)
            except Exception:  # a half-written or foreign file must not stop the card; validate reports it
                continue
    return stats


def _count_shard(stats: Stats, table: str, path: Path) -> None:
    if table == "figures":
        cols = ["source", "kind", "figure_type", "caption_no_index", "caption", "paper_id", "license"]
        for b in _batches(path, cols):
            stats.rows[table] += len(b["source"])
            stats.by_source.update(s or "unknown" for s in b["source"])
            stats.by_kind.update(k or "unknown" for k in b["kind"])
            stats.by_type.update(t or "unknown" for t in b["figure_type"])
            for bare, full in zip(b["caption_no_index"], b["caption"]):
                stats.caption_words[len((bare if bare is not None else full or "").split())] += 1
            stats.rows_by_license.update(lic or "unknown" for lic in b["license"])
            for paper, lic in zip(b["paper_id"], b["license"]):
                if paper is not None and (lic or paper not in stats.paper_license):
                    stats.paper_license[paper] = lic or "unknown"
    elif table == "instructions":
        for b in _batches(path, ["task", "template_version"]):
            stats.rows[table] += len(b["task"])
            stats.by_task.update(t or "unknown" for t in b["task"])
            stats.template_versions.update(v or "unknown" for v in b["template_version"])
    else:
        for b in _batches(path, ["stage", "error"]):
            stats.rows[table] += len(b["stage"])
            stats.by_stage.update(s or "unknown" for s in b["stage"])
            stats.by_error.update(e or "unknown" for e in b["error"])


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket for n rows."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return name
    return "10M<n<100M"


def hub_licenses(stats: Stats) -> list[str]:
    """Hub licence ids of the papers in OUT (`unknown` when none is known)."""
    ids = {HUB_LICENSES.get(lic.lower(), "other") for lic in stats.papers_by_license if lic != "unknown"}
    if "unknown" in stats.papers_by_license:
        ids.add("unknown")
    return sorted(ids) or ["unknown"]


def card_metadata(stats: Stats) -> dict:
    """The YAML header as a dict: configs, licence, tasks, size and per-config features."""
    present = [t for t in TABLE_ORDER if stats.shards.get(t)]
    if "figures" not in present:  # the default config must exist even before the first shard lands
        present.insert(0, "figures")
    configs = []
    for table in present:
        config = {"config_name": table, "data_files": [{"split": "train", "path": f"{table}/*.parquet"}]}
        if table == "figures":
            config["default"] = True
        configs.append(config)
    licenses = hub_licenses(stats)
    data = DatasetCardData(
        license=licenses[0] if len(licenses) == 1 else licenses,
        task_categories=["image-to-text", "image-text-to-text", "visual-question-answering"],
        language=["en"],
        size_categories=[size_category(stats.rows.get("figures", 0))],
        tags=["scientific-figures", "figure-captioning", "multimodal-instructions", "scitune"],
        pretty_name="scitune figures and instructions",
        configs=configs,
    )
    if "other" in licenses:
        data["license_name"] = "mixed-paper-licenses"
        data["license_link"] = "README.md"  # the "Papers and licences" section lists them
    # Features come from the one schema definition; datasets renders them in its own YAML form.
    # `download_size` also keys datasets' cache: datasets 5 caches a local folder with `configs:` by
    # folder name and card only, so without it a re-extracted OUT would load the old cached rows.
    infos = DatasetInfosDict(
        {t: DatasetInfo(features=TABLES[t], download_size=stats.bytes.get(t, 0)) for t in present}
    )
    infos.to_dataset_card_data(data)
    return data.to_dict()


def feature_type(feature) -> str:
    """A short human name of a `datasets` feature type, for the schema tables."""
    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, Image):
        return "Image"
    if isinstance(feature, (List, LargeList, Sequence)):
        inner = feature_type(feature.feature)
        length = getattr(feature, "length", -1)
        return f"list<{inner}>" + (f"[{length}]" if length and length > 0 else "")
    if isinstance(feature, dict):
        return "struct{" + ", ".join(f"{k}: {feature_type(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def schema_table(table: str) -> str:
    features: Features = TABLES[table]
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for name, feature in features.items():
        meaning = COLUMN_DOCS[table].get(name, "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {feature_type(feature).replace('|', '/')} | {meaning} |")
    return "\n".join(lines)


def _count_table(counter: Counter, what: str, total: int | None = None, describe: dict | None = None) -> str:
    if not counter:
        return "_none_"
    total = total or sum(counter.values())
    head = f"| {what} | count | share |" + (" meaning |" if describe else "")
    lines = [head, "|---|---:|---:|" + ("---|" if describe else "")]
    for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        row = f"| `{key}` | {n:,} | {n / total:.1%} |"
        if describe:
            row += f" {describe.get(key, '')} |"
        lines.append(row)
    return "\n".join(lines)


def length_summary(lengths: Counter) -> tuple[str, str]:
    """(one-line quantile summary, histogram table) of caption lengths in words."""
    if not lengths:
        return "_no captions_", ""
    total = sum(lengths.values())

    def quantile(q: float) -> int:
        seen, target = 0, q * (total - 1)
        for length in sorted(lengths):
            seen += lengths[length]
            if seen - 1 >= target:
                return length
        return max(lengths)

    mean = sum(k * v for k, v in lengths.items()) / total
    line = (
        f"{total:,} captions: mean {mean:.1f} words, min {min(lengths)}, median {quantile(0.5)}, "
        f"90th percentile {quantile(0.9)}, max {max(lengths)}; "
        f"{lengths.get(0, 0):,} empty after removing the `Figure N:` prefix."
    )
    rows = ["| words | captions |", "|---|---:|"]
    for label, n in length_bins(lengths):
        rows.append(f"| {label} | {n:,} |")
    return line, "\n".join(rows)


def length_bins(lengths: Counter) -> list[tuple[str, int]]:
    bins = []
    for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:] + (None,)):
        n = sum(v for k, v in lengths.items() if k >= lo and (hi is None or k < hi))
        bins.append((f"{lo}-{hi - 1}" if hi is not None else f"{lo}+", n))
    return bins


def write_charts(out: Path, stats: Stats) -> list[Path]:
    """Bar charts of figure types and caption lengths as PNGs under OUT/assets (none without figures)."""
    if not stats.rows.get("figures"):
        return []
    import matplotlib  # lazy: ~0.5 s to import, and only cards of datasets with figures draw charts

    matplotlib.use("Agg")  # no display on servers and workers
    import matplotlib.pyplot as plt

    folder = Path(out) / ASSETS
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    types = sorted(stats.by_type.items(), key=lambda kv: (kv[1], kv[0]))
    charts = {
        "figure_types.png": ([k for k, _ in types], [v for _, v in types], "figures and tables", True),
        "caption_lengths.png": (*map(list, zip(*length_bins(stats.caption_words))), "captions", False),
    }
    for name, (labels, values, unit, horizontal) in charts.items():
        fig, ax = plt.subplots(figsize=(6.4, max(2.4, 0.32 * len(labels) + 1)) if horizontal else (6.4, 3.2))
        if horizontal:
            ax.barh(labels, values, color="#4c72b0")
            ax.set_xlabel(f"number of {unit}")
            ax.set_title("Figure types")
        else:
            ax.bar(labels, values, color="#4c72b0")
            ax.set_xlabel("caption length (words, without the `Figure N:` prefix)")
            ax.set_ylabel(f"number of {unit}")
            ax.set_title("Caption lengths")
            ax.tick_params(axis="x", labelrotation=45)
        fig.tight_layout()
        path = folder / name
        _atomic_write(
            path, lambda f, fig=fig: fig.savefig(f, format="png", dpi=96, metadata={"Software": None})
        )
        plt.close(fig)
        written.append(path)
    return written


def render_card(stats: Stats, command: str | None = None, charts: list[Path] | None = None) -> str:
    """The whole README.md text: YAML header, then the human summary."""
    header = yaml.safe_dump(card_metadata(stats), sort_keys=False, allow_unicode=True, width=1000)
    n_fig, n_ins, n_err = (stats.rows.get(t, 0) for t in TABLE_ORDER)
    n_papers = len(stats.paper_license)
    parts = [f"---\n{header}---\n", "# scitune: scientific figures, tables and instructions\n"]
    parts.append(
        f"Figures and tables extracted from {n_papers:,} scientific papers (PDF and arXiv LaTeX source), "
        "each "
        f"with its human-written caption, the text inside it, and the body paragraphs that mention it, "
        f"plus instruction-tuning records built from them in the manner of SciTune "
        f"([Horawalavithana et al., 2023](https://arxiv.org/abs/2307.01139)).\n"
    )
    parts.append(
        "| config | rows | shards |\n|---|---:|---:|\n"
        + "\n".join(f"| `{t}` | {stats.rows.get(t, 0):,} | {stats.shards.get(t, 0)} |" for t in TABLE_ORDER)
        + "\n"
    )
    if not n_fig:
        parts.append("_This folder holds no figure rows yet: run `scitune-curate extract` into it._\n")

    parts.append("## Figures\n")
    parts.append("### By source\n\n" + _count_table(stats.by_source, "source", n_fig) + "\n")
    parts.append("### By kind\n\n" + _count_table(stats.by_kind, "kind", n_fig) + "\n")
    parts.append(
        "### By figure type\n\n" + _count_table(stats.by_type, "figure_type", n_fig, FIGURE_TYPES) + "\n"
    )
    chart_names = {p.name for p in charts or []}
    if "figure_types.png" in chart_names:
        parts.append(f"![Figure types]({ASSETS}/figure_types.png)\n")
    line, hist = length_summary(stats.caption_words)
    parts.append("### Caption lengths\n\n" + line + "\n\n" + hist + "\n")
    if "caption_lengths.png" in chart_names:
        parts.append(f"![Caption lengths]({ASSETS}/caption_lengths.png)\n")

    parts.append("## Papers and licences\n")
    parts.append(
        f"{n_papers:,} papers. Each row carries its paper's licence in the `license` column (from arXiv's "
        f"metadata where `scitune-curate download` fetched it); filter with `scitune-curate filter "
        f"--license ...`.\n\n" + dataset_license_text(stats.papers_by_license, stats.rows_by_license) + "\n"
    )

    parts.append("## Instructions\n")
    if n_ins:
        versions = ", ".join(f"`{v}`" for v in sorted(stats.template_versions))
        parts.append(
            f"{n_ins:,} instruction records (template pool version {versions}); tasks:\n\n"
            + _count_table(stats.by_task, "task", n_ins)
            + "\n"
        )
    else:
        parts.append("_None built yet: run `scitune-curate instructions OUT`._\n")

    parts.append("## Errors\n")
    if n_err:
        parts.append(
            f"{n_err:,} inputs or floats could not be used; each is an `errors` row with the input, stage "
            "and "
            f"reason.\n\n"
            + _count_table(stats.by_stage, "stage", n_err)
            + "\n\n"
            + _count_table(Counter(dict(stats.by_error.most_common(15))), "error", n_err)
            + "\n"
        )
    else:
        parts.append("No errors recorded.\n")

    parts.append("## How it was made\n")
    recorded = f"{COMMAND_LINE}{command}`" if command else "- Command: not recorded."
    parts.append(f"- Tool: `{extractor_version()}`, schema version {SCHEMA_VERSION}.\n{recorded}\n")
    parts.append(
        "- Figures and tables are found in the PDF (caption labels, drawing and image regions) and in the "
        "LaTeX "
        "source (float environments, `\\includegraphics`, `\\label`/`\\ref`); both sides are joined per "
        "float "
        "with an agreement score. Captions are the authors' own text; nothing is machine-written except the "
        "instruction wording, which comes from versioned template pools.\n"
    )

    parts.append("## How to load\n")
    loads = "".join(
        f'{t} = load_dataset("{LOAD_PLACEHOLDER}", "{t}", split="train")\n'
        for t in TABLE_ORDER
        if t == "figures" or stats.shards.get(t)
    )
    parts.append(
        "```python\nfrom datasets import load_dataset\n\n"
        + loads
        + 'figures[0]["image"]  # a PIL image\n```\n\n'
        "SciCap and SciCap Challenge users: `figure_type`, `caption`, `caption_no_index`, `ocr`, "
        "`paragraphs` "
        "(their `paragraph`) and `mentions` (their `mention`) map one-to-one; `scitune-curate export scicap` "
        "writes their COCO-style JSON (figure types folded with `scitune.schemas.taxonomy.SCICAP_TYPE_MAP`). "
        "`scitune-curate export llava|messages|prompt-completion` writes the training formats.\n"
    )

    parts.append("## Schema\n")
    for table in TABLE_ORDER:
        parts.append(f"### `{table}`\n\n" + schema_table(table) + "\n")

    parts.append("## Citation\n")
    parts.append(
        "If you use this data, please cite the SciTune paper and the scitune software:\n\n"
        f"```bibtex\n{SCITUNE_BIBTEX}\n\n"
        "@software{scitune,\n  title   = {scitune: human-curated scientific multimodal instruction data and "
        "LLaVA-style training},\n  author  = {{scitune developers}},\n"
        f"  version = {{{extractor_version().split()[-1]}}},\n  year    = {{2026}}\n}}\n```\n"
    )
    return "\n".join(parts)


def card_for_repo(text: str, repo_id: str) -> str:
    """The card as published under `repo_id`: the loading snippet names the repo instead of a local path."""
    return text.replace(f'"{LOAD_PLACEHOLDER}"', f'"{repo_id}"')


def _atomic_write(path: Path, write) -> None:
    """Write through a temp file in the same folder, then rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def recorded_command(card: Path) -> str | None:
    """The command an earlier card recorded (so re-writing the card after `instructions` keeps it)."""
    try:
        for line in card.read_text(encoding="utf-8").splitlines():
            if line.startswith(COMMAND_LINE) and line.endswith("`"):
                return line[len(COMMAND_LINE) : -1]
    except OSError:
        pass
    return None


def write_card(out: Path, command: str | None = None) -> Path:
    """Write OUT/README.md (and OUT/assets/*.png charts) from the data found in OUT; return the card path.

    `command` is the command line that produced OUT; when None, the one an existing card recorded is kept.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "README.md"
    command = command or recorded_command(path)
    stats = collect_stats(out)
    charts = write_charts(out, stats)
    text = render_card(stats, command, charts)
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


# --- export cards -----------------------------------------------------------------------------------

# Hub task categories of each export format (what a model trained on it does).
EXPORT_TASKS = {
    "llava": ["image-text-to-text", "visual-question-answering"],
    "messages": ["image-text-to-text", "visual-question-answering"],
    "prompt-completion": ["image-text-to-text", "visual-question-answering"],
    "scicap": ["image-to-text"],
    "scicap-2021": ["image-to-text"],
}
EXPORT_TITLES = {
    "llava": "LLaVA conversation JSON",
    "messages": "TRL vision chat (`messages` + `images`)",
    "prompt-completion": "TRL conversational prompt-completion (`prompt` / `completion` + `images`)",
    "scicap": "SciCap Challenge COCO-style JSON",
    "scicap-2021": "SciCap 2021 release layout (one JSON per figure)",
}
EXPORT_PLACEHOLDER = "path/to/EXPORT"  # shown in the card's loading snippet; the folder or its Hub repo id
SCICAP_BIBTEX = """@inproceedings{hsu-etal-2021-scicap-generating,
  title     = {SciCap: Generating Captions for Scientific Figures},
  author    = {Hsu, Ting-Yao and Giles, C. Lee and Huang, Ting-Hao},
  booktitle = {Findings of the Association for Computational Linguistics: EMNLP 2021},
  year      = {2021},
  pages     = {3258--3264},
  url       = {https://aclanthology.org/2021.findings-emnlp.277}
}"""


def write_export_card(
    dest: Path,
    fmt: str,
    features: Features | dict[str, Features],
    data_files: list[dict],
    stats,
    usage: str,
    configs: list[dict] | None = None,
) -> Path:
    """DEST/README.md for an export folder: a Hub dataset card with licence(s), task categories, the
    configs over `data_files`, the features, how to train on it, and the citations.

    `stats` is the export's `ExportStats` (rows, tasks, per-paper licences); `usage` is Markdown whose
    `{repo}` is replaced by the loading path. One `default` config reads `data_files` with `features`;
    or `configs` names several (each with its builder options, e.g. a JSON `field`) and `features`
    maps each config name to its features.
    """
    dest = Path(dest)
    if configs is None:
        configs = [{"config_name": "default", "data_files": data_files}]
        features = {"default": features}
    files = {p for f in data_files for p in dest.glob(f["path"]) if p.is_file()}
    licenses = hub_licenses(Stats(paper_license=dict(stats.paper_license)))
    data = DatasetCardData(
        license=licenses[0] if len(licenses) == 1 else licenses,
        task_categories=EXPORT_TASKS[fmt],
        language=["en"],
        size_categories=[size_category(stats.rows)],
        tags=["scientific-figures", "figure-captioning", "multimodal-instructions", "scitune", fmt],
        pretty_name=f"scitune: {EXPORT_TITLES[fmt]}",
        configs=configs,
    )
    if "other" in licenses:
        data["license_name"] = "mixed-paper-licenses"
        data["license_link"] = "README.md"
    # download_size keys datasets' cache of a local folder (see card_metadata): a re-export is not shadowed.
    size = sum(p.stat().st_size for p in files)
    infos = DatasetInfosDict(
        {name: DatasetInfo(features=f, download_size=size) for name, f in features.items()}
    )
    infos.to_dataset_card_data(data)
    header = yaml.safe_dump(data.to_dict(), sort_keys=False, allow_unicode=True, width=1000)
    papers = Counter(stats.paper_license.values())
    lines = []
    for config, config_features in features.items():
        lines += ([f"### `{config}`\n"] if len(features) > 1 else []) + ["| column | type |", "|---|---|"]
        lines += [f"| `{n}` | {feature_type(f).replace('|', '/')} |" for n, f in config_features.items()]
        lines.append("")
    tasks = _count_table(stats.by_task, "task", stats.rows) if stats.by_task else ""
    left_out = "".join(f"- left out {n:,}: {reason}\n" for reason, n in sorted(stats.left_out.items()))
    body = [
        f"---\n{header}---\n",
        f"# scitune: {EXPORT_TITLES[fmt]}\n",
        f"{stats.rows:,} records from {len(stats.paper_license):,} scientific papers, exported from a "
        f"scitune dataset by `scitune-curate export {fmt}` (`{extractor_version()}`, schema version "
        f"{SCHEMA_VERSION}). "
        "Captions, in-figure text and mention paragraphs are the authors' own words; only the instruction "
        "wording comes from scitune's versioned templates.\n",
        (tasks + "\n") if tasks else "",
        left_out,
        "## How to train on it\n",
        usage.replace("{repo}", EXPORT_PLACEHOLDER),
        "## Papers and licences\n",
        "Each record keeps its paper's licence where the format has room for it (`license`); reuse each "
        "record under that licence. Papers per licence:\n\n" + _count_table(papers, "license") + "\n",
        "## Features\n",
        "\n".join(lines) + "\n",
        "## Citation\n",
        "```bibtex\n"
        + SCITUNE_BIBTEX
        + ("\n\n" + SCICAP_BIBTEX if fmt.startswith("scicap") else "")
        + "\n```\n",
    ]
    path = dest / "README.md"
    text = "\n".join(part for part in body if part)
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path
