"""ScienceQA checks on real data in ../shared/corpus/scienceqa (skipped when the corpus is absent).

- The official GPT-3 (CoT, QCM-ALE) predictions score exactly as published on the columns the corpus
  holds exactly (Avg, TXT, IMG, NO and their sizes). Subject and grade are estimated for most test
  questions in problems_test_meta.json, so NAT/SOC/LAN/G columns need the official problems.json.
- Our CQM-A conversion reproduces LLaVA's own `llava_test_CQM-A.json` for every question whose text
  comes from a real record (problems_small.json, records marked `record:` in the meta file, the Hub sample).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scitune.train import scienceqa as sqa
from tests.conftest import CORPUS

SQA = CORPUS / "scienceqa"
pytestmark = pytest.mark.corpus


def test_gpt3_predictions_score_as_published(tmp_path):
    problems = list(sqa.read_problems(SQA / "problems_test_meta.json", "test"))
    predictions = sqa.read_predictions(SQA / "gpt3_final_test_QCM-ALE_2_seed_3.json")
    judged = sqa.judge(problems, predictions)
    s = sqa.score(problems, judged)
    assert len(problems) == 4241
    assert {c: s[c]["total"] for c in ("TXT", "IMG", "NO", "Avg")} == {
        "TXT": 2046,
        "IMG": 2017,
        "NO": 1435,
        "Avg": 4241,
    }
    assert {c: f"{s[c]['accuracy']:.2f}" for c in ("Avg", "TXT", "IMG", "NO")} == {
        "Avg": "75.17",
        "TXT": "74.68",
        "IMG": "67.43",
        "NO": "79.93",
    }
    assert (
        s["Avg"]["correct"]
        == json.loads((SQA / "gpt3_final_test_QCM-ALE_2_seed_3.json").read_text())["correct"]
    )
    assert not [j for j in judged if j.pred is None]  # every GPT-3 result is a valid index


def test_gpt3_check_through_the_cli(tmp_path):
    out = tmp_path / "gpt3"
    cmd = [
        sys.executable,
        "-m",
        "scitune.train.cli",
        "evaluate",
        "--task",
        "scienceqa",
        "--data",
        str(SQA / "problems_test_meta.json"),
        "--predictions",
        str(SQA / "gpt3_final_test_QCM-ALE_2_seed_3.json"),
        "-o",
        str(out),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Avg 75.17" in run.stdout and "TXT 74.68" in run.stdout
    result = json.loads((out / "results.json").read_text())
    assert f"{result['scores']['IMG']['accuracy']:.2f}" == "67.43"
    assert result["settings"]["variant"] == "standard" and result["parse_failures"] == []
    assert "| 75.17 |" in (out / "results.md").read_text()
    assert (out / "scores.png").read_bytes().startswith(b"\x89PNG")
    assert sum(1 for _ in open(out / "predictions.jsonl")) == 4241


def _llava_prompts() -> dict[str, str]:
    return {
        r["id"]: r["conversations"][0]["value"]
        for r in json.loads((SQA / "llava_test_CQM-A.json").read_text())
    }


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def test_cqm_a_conversion_matches_llava_for_real_records():
    llava = _llava_prompts()
    small = [p for p in sqa.read_problems(SQA / "problems_small.json", "test")]
    meta = json.loads((SQA / "problems_test_meta.json").read_text())
    records = [
        p
        for p in sqa.read_problems(SQA / "problems_test_meta.json", "test")
        if meta[p.pid]["text_source"].startswith("record:")
    ]
    assert len(small) == 50 and len(records) == 220
    checked = 0
    for p in small + records:
        ours = sqa.prompt(p, "CQM-A", for_eval=False)
        assert _same(ours, llava[p.pid]), (p.pid, ours, llava[p.pid])
        checked += 1
    assert checked == 270
    # at evaluation LLaVA-1.5 appends its single-prediction instruction
    assert sqa.prompt(small[0], "CQM-A").endswith("\n" + sqa.SINGLE_PRED_PROMPT)


def test_cqm_a_conversion_matches_llava_for_the_hub_sample(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = json.loads((SQA / "sample_hf_test_index5.json").read_text())
    rec = {k: v for k, v in rec.items() if not k.startswith("_")}
    rec["image"] = {"bytes": (SQA / "hf_test_index5.png").read_bytes(), "path": None}
    # the Hub shard as `datasets` writes it: the record at row index 5 of the test split
    filler = [dict(rec, question=f"filler {i}", image=None) for i in range(5)]
    pq.write_table(pa.Table.from_pylist(filler + [rec]), tmp_path / "test-00000-of-00001.parquet")
    p = list(sqa.read_problems(tmp_path, "test"))[5]
    assert p.pid.startswith("test-00005-") and p.has_image and p.image.startswith(b"\x89PNG")
    # the Hub record is pid 23 (the sixth test pid; GPT-3's output for pid 23 answers this question)
    assert _same(sqa.prompt(p, "CQM-A", for_eval=False), _llava_prompts()["23"])
