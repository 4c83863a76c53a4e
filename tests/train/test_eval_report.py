"""Results presentation: Markdown tables, the bar chart, `compare`, and the published rows."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from scitune.train import report
from scitune.train.scienceqa import CATEGORIES
from tests.conftest import CORPUS


def sqa_result(path, avg, variant="standard", model="runs/a/model"):
    scores = {c: {"accuracy": avg + i, "correct": 1, "total": 2} for i, c in enumerate(CATEGORIES)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "task": "scienceqa",
                "settings": {"model": model, "prompt_format": "CQM-A", "variant": variant},
                "scores": scores,
            }
        )
    )
    return path


def test_scienceqa_table_formats_two_decimals_and_missing():
    table = report.scienceqa_table([("m", "standard", {"NAT": 75.4549, "Avg": 100.0})])
    assert (
        table.splitlines()[0] == "| Model | Columns | NAT | SOC | LAN | TXT | IMG | NO | G1-6 | G7-12 | Avg |"
    )
    assert table.splitlines()[2] == "| m | standard | 75.45 | - | - | - | - | - | - | - | 100.00 |"


def test_compare_puts_results_beside_published_rows(tmp_path):
    a = sqa_result(tmp_path / "a" / "results.json", 50.0)
    b = sqa_result(tmp_path / "b" / "results.json", 60.0, variant="scitune", model="runs/b/model")
    md = report.compare([a, b], published=True)
    lines = md.splitlines()
    assert "| model (a) CQM-A | standard | 50.00 | 51.00 |" in md
    assert "| model (b) CQM-A | scitune | 60.00 |" in md
    assert lines.index(
        "| model (a) CQM-A | standard | 50.00 | 51.00 | 52.00 | 53.00 | 54.00 | 55.00 | 56.00 | 57.00 | "
        "58.00 |"
    ) < next(i for i, line in enumerate(lines) if line.startswith("| Human (published)"))
    assert (
        "| SciTune 7B (published) | scitune | 84.50 |" in md
        and "compare them only with `--scitune-variant`" in md
    )
    assert report.compare([a]).count("(published)") == 0
    (tmp_path / "junk.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not scitune results"):
        report.compare([tmp_path / "junk.json"])


def test_compare_caption_results(tmp_path):
    path = tmp_path / "v" / "results.json"
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "task": "vistext",
                "settings": {"model": "m"},
                "scores": {
                    "captions": {
                        "L1": {"n": 3, "BLEU-4": 0.1234567, "google_bleu_mean": 0.2, "rougeL_mean": None}
                    }
                },
            }
        )
    )
    md = report.compare([path])
    assert "## vistext captions" in md and "| m (v) | L1 | 3 | 0.1235 | - | - | - | 0.2000 | - | - |" in md


def test_bar_chart_writes_a_png(tmp_path):
    path = report.bar_chart(
        {"NAT": 75.0, "SOC": None, "Avg": 80.5}, tmp_path / "c.png", "title", "acc", ymax=100
    )
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 300
    again = report.bar_chart(
        {"NAT": 75.0, "SOC": None, "Avg": 80.5}, tmp_path / "d.png", "title", "acc", ymax=100
    )
    assert path.read_bytes() == again.read_bytes()  # same numbers, same file


@pytest.mark.corpus
def test_published_rows_match_the_leaderboard():
    text = (CORPUS / "scienceqa" / "leaderboard.md").read_text()

    def row(name: str, size: str | None = None) -> list[float]:
        for line in text.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) > 10 and cells[1].strip("*") == name and (size is None or cells[4] == size):
                return [float(re.sub(r"[*]", "", c)) for c in cells[-9:]]
        raise AssertionError(f"{name} not in leaderboard.md")

    assert report.PUBLISHED["Human"]["scores"] == row("Human Performance")
    assert report.PUBLISHED["GPT-3 CoT (ALE, 2-shot)"]["scores"] == row("CoT GPT-3 (ALE)")
    assert report.PUBLISHED["LLaVA 13B"]["scores"] == row("LLaVA")
    assert report.PUBLISHED["SciTune 13B"]["scores"] == row("LLaMA-SciTune", "13B")
    assert report.PUBLISHED["SciTune 7B"]["scores"] == row("LLaMA-SciTune", "7B")
