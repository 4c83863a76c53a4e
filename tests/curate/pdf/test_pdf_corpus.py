"""extract_pdf on real papers of the shared corpus against their gold.json (skipped without ../shared).

Two papers with different layouts: IEEE two-column with a roman-numbered table and side-by-side
floats (srds2022_ebmc), and a revtex two-column preprint with margin line numbers, double-column
floats and SI-numbered supplement figures (msd_errors). The full benchmark is benchmarks/extraction_pdf.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.gold import load_gold, score_paper
from scitune.curate.pdf.extract import extract_pdf

ROOT = Path(__file__).resolve().parents[3]

PAIRED = ROOT.parent / "shared" / "corpus" / "paired"


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["srds2022_ebmc", "msd_errors"])
def test_corpus_paper_against_gold(name):
    gold = load_gold(PAIRED / name / "gold.json")
    result = extract_pdf(PAIRED / name / gold["pdf"], ocr="off")
    score = score_paper(gold, result.floats)
    assert score["recall"] >= 0.95, score["missed"]
    assert score["precision"] >= 0.95, score["extra"]
    assert score["page_accuracy"] == 1.0
    assert score["mean_caption_f1"] >= 0.93, score["caption_f1"]
    assert score["mention_recall"] >= 0.85
    assert all(f.image_png and f.bbox for f in result.floats)


@pytest.mark.corpus
def test_corpus_margin_line_numbers_stay_out_of_text():
    gold = load_gold(PAIRED / "msd_errors" / "gold.json")
    result = extract_pdf(PAIRED / "msd_errors" / gold["pdf"], ocr="off")
    fig1 = next(f for f in result.floats if f.number == "1")
    # paragraphs read like the LaTeX source: no line numbers like "69 simulation (Fig. 1)"
    assert fig1.paragraphs and all(not p.split()[0].isdigit() for p in fig1.paragraphs)
    assert fig1.caption.startswith("FIG. 1. A schematic diagram of the Bayesian regression method")
