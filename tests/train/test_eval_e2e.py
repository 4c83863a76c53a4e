"""End to end: a tiny model trained by `scitune-train finetune` is evaluated through `scitune-train evaluate`.

The model (tiny-cpu preset, built from configs, trained ~20 steps on synthetic ScienceQA questions written by
`scienceqa.export`) is evaluated on ScienceQA, VisText and SciCap data, twice, and must give identical
files. The corpus-marked tests do the same on the real ScienceQA and VisText samples in ../shared/corpus.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from scitune.train import scienceqa as sqa
from scitune.train.cli import app
from tests.conftest import CORPUS

runner = CliRunner()
COLORS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 160, 30)}


def cli(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def write_sqa(root, n_train=48, n_test=12, seed=0):
    """An official-layout ScienceQA folder of colour questions about drawn squares."""
    rng = random.Random(seed)
    problems, splits = {}, {"train": [], "test": []}
    for i in range(n_train + n_test):
        split = "train" if i < n_train else "test"
        color = rng.choice(list(COLORS))
        choices = [color, rng.choice([c for c in COLORS if c != color])]
        rng.shuffle(choices)
        pid = str(100 + i)
        has_image = i % 5 != 4
        problems[pid] = {
            "question": "What color is the square?" if has_image else f"Which word names the color {color}?",
            "choices": choices,
            "answer": choices.index(color),
            "hint": "The square is painted." if i % 3 == 0 else "",
            "image": "image.png" if has_image else None,
            "task": "closed choice",
            "grade": f"grade{1 + i % 12}",
            "subject": ["natural science", "social science", "language science"][i % 3],
            "topic": "colors",
            "category": "Colors",
            "skill": "Name colors",
            "lecture": "Colors are seen.",
            "solution": f"The square is {color}.",
            "split": split,
        }
        splits[split].append(pid)
        if has_image:
            folder = root / "images" / split / pid
            folder.mkdir(parents=True)
            Image.new("RGB", (64, 64), COLORS[color]).save(folder / "image.png")
    (root / "problems.json").write_text(json.dumps(problems))
    (root / "pid_splits.json").write_text(json.dumps(splits))
    return root


def draw_chart(path, kind: str, seed: int) -> None:
    rng = random.Random(seed)
    im = Image.new("RGB", (96, 96), "white")
    d = ImageDraw.Draw(im)
    ys = [rng.randint(20, 85) for _ in range(6)]
    xs = [10 + 14 * i for i in range(6)]
    if kind == "bar":
        for x, y in zip(xs, ys):
            d.rectangle([x - 4, y, x + 4, 88], fill=(40, 70, 220))
    else:
        d.line(list(zip(xs, ys)), fill=(220, 40, 40), width=3)
    im.save(path)


def write_vistext(root, records, split):
    root.mkdir(parents=True, exist_ok=True)
    (root / f"data_{split}.json").write_text(json.dumps(records))
    (root / "images").mkdir(exist_ok=True)
    for rec in records:
        props = rec["L1_properties"]
        kind = (props[0] if isinstance(props, list) else props.strip("[").split(",")[0]).strip()
        draw_chart(root / "images" / f"{rec['img_id']}.png", kind, int(rec["img_id"]))
    return root


def synthetic_vistext_records():
    recs = []
    for img_id, kind in ((1, "line"), (2, "bar"), (3, "line")):
        for k in (1, 2):
            recs.append(
                {
                    "caption_id": f"{img_id}_0{k}",
                    "img_id": img_id,
                    "split": "test",
                    "scenegraph": "sg",
                    "datatable": "dt",
                    "caption_L1": f"A {kind} chart of sales from 2000 to 2005.",
                    "caption_L2L3": f"Sales {'rise' if k == 1 else 'peak'} in 2003.",
                    "L1_properties": [kind, "Sales", "Year", "Sales"],
                }
            )
    return recs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(checkpoint folder, ScienceQA folder): tiny-cpu trained briefly on the train split."""
    root = tmp_path_factory.mktemp("e2e")
    data = write_sqa(root / "sqa")
    text = cli(
        "prepare-scienceqa", data, "-o", root / "train_data", "--split", "train", "--prompt-format", "CQM-A"
    )
    assert "48 questions written" in text and "0 skipped" in text
    cli(
        "finetune",
        "tiny-cpu",
        "--data",
        root / "train_data",
        "-o",
        root / "run",
        "--set",
        "instruct.max_steps=20",
        "--set",
        "train.log_every=100",
    )
    return root / "run" / "instruct" / "model", data


def _without_run(path):
    result = json.loads(path.read_text())
    result.pop("run")
    return result


def test_scienceqa_evaluation_is_deterministic(trained, tmp_path):
    model, data = trained
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        text = cli(
            "evaluate", "--task", "scienceqa", "--model", model, "--data", data, "-o", out, "--batch-size", 4
        )
        assert "Avg" in text
        outs.append(out)
    a, b = outs
    assert (a / "predictions.jsonl").read_text() == (b / "predictions.jsonl").read_text()
    assert _without_run(a / "results.json") == _without_run(b / "results.json")
    result = _without_run(a / "results.json")
    assert result["scores"]["Avg"]["total"] == 12 and result["settings"]["decoding"]["strategy"] == "greedy"
    assert (
        result["settings"]["prompt_format"] == "CQM-A"
        and result["settings"]["decoding"]["max_new_tokens"] == 16
    )
    rows = [json.loads(line) for line in (a / "predictions.jsonl").read_text().splitlines()]
    assert [r["question_id"] for r in rows] == [str(100 + i) for i in range(48, 60)]
    # trained on CQM-A targets, the model answers with option letters the parser reads
    assert sum(r["pred"] is not None for r in rows) >= 9
    assert len(result["parse_failures"]) == sum(r["pred"] is None for r in rows)
    assert (a / "scores.png").read_bytes() == (b / "scores.png").read_bytes()
    assert "| Avg |" in (a / "results.md").read_text()

    # the written predictions score again to the same numbers through --predictions
    rescored = tmp_path / "rescored"
    cli(
        "evaluate",
        "--task",
        "scienceqa",
        "--predictions",
        a / "predictions.jsonl",
        "--data",
        data,
        "-o",
        rescored,
    )
    assert json.loads((rescored / "results.json").read_text())["scores"] == result["scores"]

    # batch size does not change greedy answers (left padding)
    c = tmp_path / "c"
    cli("evaluate", "--task", "scienceqa", "--model", model, "--data", data, "-o", c, "--batch-size", 1)
    assert [json.loads(x)["text"] for x in (c / "predictions.jsonl").read_text().splitlines()] == [
        r["text"] for r in rows
    ]


def test_scitune_variant_and_other_formats(trained, tmp_path):
    model, data = trained
    out = tmp_path / "lepa"
    cli(
        "evaluate",
        "--task",
        "scienceqa",
        "--model",
        model,
        "--data",
        data,
        "-o",
        out,
        "--prompt-format",
        "QCM-LEPA",
        "--scitune-variant",
        "--max-new-tokens",
        8,
        "--limit",
        5,
    )
    result = json.loads((out / "results.json").read_text())
    assert result["settings"]["variant"] == "scitune" and result["scores"]["Avg"]["total"] == 5
    assert result["category_definitions"]["TXT"].startswith("no image") and "scores_standard" in result
    first = json.loads((out / "predictions.jsonl").read_text().splitlines()[0])
    assert first["prompt"].startswith(
        "<image>\nWhat color is the square?\nContext: The square is painted.\nOptions: (A)"
    )


def test_vistext_and_scicap_evaluation(trained, tmp_path):
    model, _ = trained
    data = write_vistext(tmp_path / "vistext", synthetic_vistext_records(), "test")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        text = cli(
            "evaluate",
            "--task",
            "vistext",
            "--model",
            model,
            "--data",
            data,
            "-o",
            out,
            "--max-new-tokens",
            12,
        )
        assert "vistext [L1]" in text
        outs.append(out)
    a, b = outs
    assert (a / "predictions.jsonl").read_text() == (b / "predictions.jsonl").read_text()
    result = _without_run(a / "results.json")
    assert result == _without_run(b / "results.json")
    captions = result["scores"]["captions"]
    assert set(captions) == {"L1", "L2L3", "L1+L2L3"} and captions["L1"]["n"] == 3
    for level in captions.values():
        for metric in ("google_bleu_mean", "rougeL_mean", "sacreBLEU"):
            assert level[metric] is not None and level[metric] >= 0
    assert result["scores"]["figure_type"]["n"] == 3
    assert "rouge-score" in result["versions"]["metrics"]["rougeL_mean"]
    assert result["settings"]["caption_prompt"] == "<image>\nDescribe this chart."
    rows = [json.loads(x) for x in (a / "predictions.jsonl").read_text().splitlines()]
    assert [r["question_id"] for r in rows] == ["1", "2", "3"] and all(r["gold_type"] for r in rows)

    # SciCap per-figure JSON, same model
    scicap = tmp_path / "scicap"
    scicap.mkdir()
    for n, kind in ((1, "line"), (2, "bar")):
        fid = f"2101.0000{n}v1-Figure{n}-1.png"
        (scicap / f"{n}.json").write_text(
            json.dumps(
                {
                    "paper-ID": f"2101.0000{n}v1",
                    "figure-ID": fid,
                    "figure-type": "Graph Plot" if kind == "line" else "Bar Chart",
                    "0-originally-extracted": f"Figure {n}: Sales per year.",
                    "Img-text": ["2000", "2005"],
                }
            )
        )
        draw_chart(scicap / fid, kind, n)
    out = tmp_path / "scicap_out"
    cli("evaluate", "--task", "scicap", "--model", model, "--data", scicap, "-o", out, "--max-new-tokens", 8)
    result = json.loads((out / "results.json").read_text())
    assert result["settings"]["data_format"] == "scicap" and result["scores"]["captions"]["caption"]["n"] == 2
    assert result["settings"]["caption_prompt"] == "<image>\nWrite the caption of this figure."


def test_compare_and_cli_errors(trained, tmp_path):
    model, data = trained
    out = tmp_path / "one"
    cli("evaluate", "--task", "scienceqa", "--model", model, "--data", data, "-o", out, "--limit", 3)
    text = cli(
        "compare", out / "results.json", out / "results.json", "--published", "-o", tmp_path / "cmp.md"
    )
    assert text.count("| model (one) CQM-A | standard |") == 2
    assert "| SciTune 13B (published) | scitune | 89.30 |" in text and "LLaVA 13B" in text
    assert text == (tmp_path / "cmp.md").read_text() + "\n"

    both = runner.invoke(
        app,
        [
            "evaluate",
            "--task",
            "scienceqa",
            "--model",
            str(model),
            "--predictions",
            str(out / "predictions.jsonl"),
            "--data",
            str(data),
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert both.exit_code == 2 and "either --model" in both.output
    unknown = runner.invoke(
        app,
        ["evaluate", "--task", "mmlu", "--predictions", "p", "--data", str(data), "-o", str(tmp_path / "y")],
    )
    assert unknown.exit_code == 2 and "unknown task" in unknown.output
    assert runner.invoke(app, ["compare"]).exit_code == 2
    for command in ("evaluate", "compare"):
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


# ----------------------------------------------------------------------------- real samples (corpus)

SQA_CORPUS = CORPUS / "scienceqa"
VISTEXT_CORPUS = CORPUS / "vistext"


@pytest.mark.corpus
def test_real_scienceqa_records(trained, tmp_path):
    """problems_small.json's 50 test records; pid 23's image is the Hub sample's, the others are absent."""
    model, _ = trained
    data = tmp_path / "sqa"
    data.mkdir()
    shutil.copy(SQA_CORPUS / "problems_small.json", data / "problems.json")
    shutil.copy(SQA_CORPUS / "pid_splits.json", data / "pid_splits.json")
    (data / "images" / "test" / "23").mkdir(parents=True)
    shutil.copy(SQA_CORPUS / "hf_test_index5.png", data / "images" / "test" / "23" / "image.png")
    problems = list(sqa.read_problems(data, "test"))
    with_image = [p.pid for p in problems if p.has_image]
    outs = []
    for name in ("a", "b"):
        outs.append(tmp_path / name)
        cli(
            "evaluate",
            "--task",
            "scienceqa",
            "--model",
            model,
            "--data",
            data,
            "-o",
            outs[-1],
            "--batch-size",
            8,
        )
    a, b = outs
    assert (a / "predictions.jsonl").read_text() == (b / "predictions.jsonl").read_text()
    result = _without_run(a / "results.json")
    assert result == _without_run(b / "results.json")
    assert result["scores"]["Avg"]["total"] == 50
    missing = {e["id"] for e in result["errors"] if e["error"] == "image_missing"}
    assert missing == set(with_image) - {"23"}  # listed, counted wrong, never silently dropped
    rows = {
        json.loads(x)["question_id"]: json.loads(x)
        for x in (a / "predictions.jsonl").read_text().splitlines()
    }
    assert rows["23"]["text"] is not None and rows["23"]["prompt"].startswith(
        "<image>\nContext: Below is a food web"
    )
    assert all(rows[pid]["correct"] is False for pid in missing)


@pytest.mark.corpus
def test_real_vistext_records(trained, tmp_path):
    """The five caption records of the VisText sample (3 charts), with chart images drawn here."""
    model, _ = trained
    records = json.loads((VISTEXT_CORPUS / "sample_records_from_notebook.json").read_text())["records"]
    data = write_vistext(tmp_path / "vistext", records, "train")
    outs = []
    for name in ("a", "b"):
        outs.append(tmp_path / name)
        cli(
            "evaluate",
            "--task",
            "vistext",
            "--split",
            "train",
            "--model",
            model,
            "--data",
            data,
            "-o",
            outs[-1],
            "--max-new-tokens",
            12,
        )
    a, b = outs
    assert (a / "predictions.jsonl").read_text() == (b / "predictions.jsonl").read_text()
    result = _without_run(a / "results.json")
    assert result == _without_run(b / "results.json")
    assert result["scores"]["captions"]["L2L3"]["n"] == 2  # charts 1 and 2 are train; chart 3 is validation
    rows = [json.loads(x) for x in (a / "predictions.jsonl").read_text().splitlines()]
    assert [r["gold_type"] for r in rows] == ["line", "area"]


def test_caption_prediction_file_scores_exact_answers_perfectly(tmp_path):
    """No model: a prediction file holding the references and the right types scores 1 everywhere."""
    data = write_vistext(tmp_path / "vistext", synthetic_vistext_records(), "test")
    kinds = {1: "line", 2: "bar", 3: "line"}
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(
            json.dumps(
                {
                    "question_id": str(i),
                    "text": f"ASSISTANT: A {kinds[i]} chart of sales from 2000 to 2005.</s>",
                    "type_text": f"A {kinds[i]} plot." if i != 3 else "No idea.",
                }
            )
            + "\n"
            for i in (1, 2, 3)
        )
    )
    out = tmp_path / "out"
    cli("evaluate", "--task", "vistext", "--predictions", preds, "--data", data, "-o", out)
    result = json.loads((out / "results.json").read_text())
    l1 = result["scores"]["captions"]["L1"]
    for metric in ("BLEU-4", "METEOR", "ROUGE-L", "google_bleu_mean", "rougeL_mean"):
        assert l1[metric] == pytest.approx(1.0), metric
    assert l1["sacreBLEU"] == pytest.approx(100.0)
    assert result["scores"]["captions"]["L2L3"]["rougeL_mean"] < 0.5  # the L1 sentence is not an L2L3 caption
    types = result["scores"]["figure_type"]
    assert types["accuracy"] == pytest.approx(2 / 3) and types["unparsed"] == 1
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert rows[0]["caption"] == "A line chart of sales from 2000 to 2005."  # chat artefacts cleaned
    assert [r["figure_type"] for r in rows] == ["line", "bar", None]
