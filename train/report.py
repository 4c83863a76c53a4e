"""Human-readable results: Markdown tables like the papers', a per-category bar chart, and `compare`.

`PUBLISHED` holds the rows results are compared with (ScienceQA test accuracy, percent). Sources: the
ScienceQA leaderboard (lupantech/ScienceQA README) and the SciTune paper (arXiv 2307.01139). SciTune's
TXT, NO and grade columns follow its own definitions (TXT = no image, NO = no hint, grade groups as the
unweighted mean of per-grade accuracies), so they are marked `scitune` and only comparable with results
computed with `--scitune-variant`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .scienceqa import CATEGORIES

PUBLISHED: dict[str, dict] = {
    "Human": {
        "definitions": "standard",
        "source": "ScienceQA leaderboard (Lu et al., 2022)",
        "scores": [90.23, 84.97, 87.48, 89.60, 87.50, 88.10, 91.59, 82.42, 88.40],
    },
    "GPT-3 CoT (ALE, 2-shot)": {
        "definitions": "standard",
        "source": "ScienceQA leaderboard (Lu et al., 2022)",
        "scores": [75.44, 70.87, 78.09, 74.68, 67.43, 79.93, 78.23, 69.68, 75.17],
    },
    "LLaVA 13B": {
        "definitions": "standard",
        "source": "ScienceQA leaderboard (Liu et al., 2023)",
        "scores": [90.36, 95.95, 88.00, 89.49, 88.00, 90.66, 90.93, 90.90, 90.92],
    },
    "SciTune 13B": {
        "definitions": "scitune",
        "source": "SciTune paper (Horawalavithana et al., 2023)",
        "scores": [89.30, 95.61, 87.00, 93.08, 86.67, 91.75, 84.37, 91.30, 90.03],
    },
    "SciTune 7B": {
        "definitions": "scitune",
        "source": "SciTune paper (Horawalavithana et al., 2023)",
        "scores": [84.50, 94.15, 82.91, 88.35, 83.64, 88.74, 85.05, 85.60, 86.11],
    },
}

CAPTION_COLUMNS = ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "google_bleu_mean", "rougeL_mean", "sacreBLEU")


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def scienceqa_table(rows: list[tuple[str, str, dict]]) -> str:
    """Markdown table; rows are (name, definitions, {category: accuracy percent or None})."""
    head = "| Model | Columns | " + " | ".join(CATEGORIES) + " |"
    lines = [head, "|" + "---|" * (len(CATEGORIES) + 2)]
    for name, definitions, scores in rows:
        lines.append(
            f"| {name} | {definitions} | " + " | ".join(_fmt(scores.get(c)) for c in CATEGORIES) + " |"
        )
    return "\n".join(lines) + "\n"


def caption_table(rows: list[tuple[str, str, dict]]) -> str:
    """Markdown table; rows are (name, reference level, {metric: value})."""
    lines = [
        "| Model | References | n | " + " | ".join(CAPTION_COLUMNS) + " |",
        "|" + "---|" * (len(CAPTION_COLUMNS) + 3),
    ]
    for name, level, scores in rows:
        cells = [_fmt(scores.get(c), 4) for c in CAPTION_COLUMNS]
        lines.append(f"| {name} | {level} | {scores.get('n', '-')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def type_table(name: str, types: dict) -> str:
    lines = [
        f"Figure type ({name}): accuracy {_fmt(types.get('accuracy'), 4)}, macro-F1 "
        f"{_fmt(types.get('macro_f1'), 4)}, unreadable {types.get('unparsed', 0)} of {types.get('n', 0)}",
        "",
        "| Type | Precision | Recall | F1 | Support |",
        "|---|---|---|---|---|",
    ]
    for label, c in types.get("per_class", {}).items():
        lines.append(
            f"| {label} | {_fmt(c['precision'], 3)} | {_fmt(c['recall'], 3)} | {_fmt(c['f1'], 3)} | "
            f"{c['support']} |"
        )
    return "\n".join(lines) + "\n"


def bar_chart(
    values: dict[str, float | None], path: str | Path, title: str, ylabel: str, ymax: float | None = None
) -> Path:
    """A bar per category (matplotlib, Agg backend: no display needed)."""
    import matplotlib  # lazy: ~0.5 s to import, and only reports with charts need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(values)
    heights = [values[n] or 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.75 * len(names) + 1.5), 3.2), dpi=100)
    bars = ax.bar(names, heights, color="#4C72B0")
    for bar, name in zip(bars, names):
        label = "n/a" if values[name] is None else f"{values[name]:.2f}"
        ax.annotate(
            label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=7
        )
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel)
    if ymax is not None:
        ax.set_ylim(0, ymax)
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, metadata={"Software": None})  # no version stamp: the same scores give the same file
    plt.close(fig)
    return path


def _result_name(result: dict, path: Path) -> str:
    model = result.get("settings", {}).get("model") or result.get("settings", {}).get("predictions") or ""
    return f"{Path(model).name or path.parent.name} ({path.parent.name})"


def compare(result_files: list[str | Path], published: bool = False) -> str:
    """Markdown putting result files side by side (with the published ScienceQA rows when asked)."""
    results = [(Path(p), json.loads(Path(p).read_text(encoding="utf-8"))) for p in result_files]
    sqa = [(p, r) for p, r in results if r.get("task") == "scienceqa"]
    caps = [(p, r) for p, r in results if r.get("task") in ("scicap", "vistext")]
    unknown = [str(p) for p, r in results if r.get("task") not in ("scienceqa", "scicap", "vistext")]
    if unknown:
        raise ValueError(f"not scitune results files (no known `task`): {unknown}")
    parts = []
    if sqa or published:
        rows = []
        for p, r in sqa:
            fmt = r.get("settings", {}).get("prompt_format") or ""
            rows.append(
                (
                    f"{_result_name(r, p)} {fmt}".strip(),
                    r.get("settings", {}).get("variant", "standard"),
                    {c: v["accuracy"] for c, v in r["scores"].items()},
                )
            )
        if published:
            for name, row in PUBLISHED.items():
                rows.append((f"{name} (published)", row["definitions"], dict(zip(CATEGORIES, row["scores"]))))
        parts.append("## ScienceQA test accuracy (%)\n\n" + scienceqa_table(rows))
        if published:
            parts.append(
                "Columns `scitune`: TXT = no image, NO = no hint, grade groups = unweighted mean of "
                "per-grade accuracies; compare them only with `--scitune-variant` results.\n"
            )
    for p, r in caps:
        rows = [(_result_name(r, p), level, s) for level, s in r["scores"]["captions"].items()]
        parts.append(f"## {r['task']} captions: {p}\n\n" + caption_table(rows))
    return "\n".join(parts)
