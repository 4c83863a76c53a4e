"""`scitune-train finetune` from the command line: a short run on an instructions folder, resume, errors."""

from __future__ import annotations

import json

from train_fixtures import synthetic_rows, write_instructions
from typer.testing import CliRunner

from scitune.train.cli import app
from scitune.train.model import load_model


def test_help_documents_the_options():
    out = CliRunner().invoke(app, ["finetune", "--help"])
    assert out.exit_code == 0
    for option in ("--data", "--output", "--set", "--resume", "--config"):
        assert option in out.output


def test_finetune_tiny_cpu_on_an_out_folder_then_resume(tmp_path):
    data = write_instructions(tmp_path / "out", synthetic_rows(8))
    run = tmp_path / "run"
    args = [
        "finetune",
        "tiny-cpu",
        "--data",
        str(data),
        "--output",
        str(run),
        "--set",
        "instruct.max_steps=6",
        "--set",
        "train.progress=false",
        "--set",
        "train.log_every=2",
    ]
    first = CliRunner().invoke(app, args + ["--set", "train.stop_at=2", "--set", "instruct.save_every=1"])
    assert first.exit_code == 0, first.output
    assert not (run / "instruct" / "model").exists()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = CliRunner().invoke(app, args + ["--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "model saved to" in resumed.output
    metrics = (run / "instruct" / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in metrics]
    assert steps == [2, 4, 6]
    model, processor = load_model(run / "instruct" / "model")
    assert model.config.model_type == "llava" and processor.tokenizer.chat_template


def test_bad_settings_exit_2_with_a_message(tmp_path):
    out = CliRunner().invoke(app, ["finetune", "tiny-cpu", "--set", "instruct.lrr=1", "-o", str(tmp_path)])
    assert out.exit_code == 2 and "unknown setting instruct.lrr; did you mean instruct.lr" in out.output
    out = CliRunner().invoke(app, ["finetune", "tiny-cpu", "-o", str(tmp_path / "r")])
    assert out.exit_code == 2 and "no data" in out.output
