"""The dataset card: YAML header that `datasets` and the Hub read, human summary, charts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scitune.curate.card import LOAD_PLACEHOLDER, card_for_repo, collect_stats, write_card  # noqa: E402
from scitune.curate.writer import write_table  # noqa: E402
from scitune.schemas import (  # noqa: E402
    ERROR_FEATURES,
    INSTRUCTION_FEATURES,
    content_parts,  # noqa: E402
    validate_folder,
)
from scitune.schemas import content_text as as_text  # noqa: E402
from tests.curate.sample_figures import figure_row, make_out, sample_rows  # noqa: E402


def read_header(card: Path) -> dict:
    text = card.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def assert_configured_paths_exist(out: Path, header: dict) -> None:
    for config in header["configs"]:
        for data_file in config["data_files"]:
            assert list(out.glob(data_file["path"])), (
                f"{config['config_name']}: {data_file['path']} matches nothing"
            )


def test_empty_folder_gets_a_valid_card(tmp_path):
    card = write_card(tmp_path / "OUT")
    header = read_header(card)
    assert [c["config_name"] for c in header["configs"]] == ["figures"]
    assert header["configs"][0]["default"] is True
    assert header["license"] == "unknown"
    assert "no figure rows yet" in card.read_text()
    assert not (tmp_path / "OUT" / "assets").exists()


def test_card_header_configs_features_and_body(tmp_path):
    out = make_out(tmp_path / "OUT")
    write_table([], out / "errors", ERROR_FEATURES)  # an empty table folder gets no config
    card = write_card(out, command="scitune-curate extract papers -o OUT")
    header = read_header(card)
    assert [c["config_name"] for c in header["configs"]] == ["figures"]
    assert_configured_paths_exist(out, header)
    assert sorted(header["license"]) == ["cc-by-4.0", "mit"]
    assert header["size_categories"] == ["n<1K"]
    assert "image-to-text" in header["task_categories"]
    info = header["dataset_info"]
    names = [f["name"] for f in info["features"]]
    assert names[:3] == ["figure_id", "paper_id", "kind"] and {"image", "caption", "ocr"} <= set(names)
    assert {"name": "image", "dtype": "image"} in info["features"]

    body = card.read_text()
    assert "Figures and tables extracted from 2 scientific papers" in body
    assert "| `line_plot` | 2 | 33.3% |" in body  # 2 of 6 rows
    assert "| `table` | 1 |" in body and "| `pdf+latex` | 6 | 100.0% |" in body
    assert "| `CC-BY-4.0` | 1 |" in body and "| `MIT` | 1 |" in body
    assert "`scitune-curate extract papers -o OUT`" in body
    assert f'load_dataset("{LOAD_PLACEHOLDER}", "figures", split="train")' in body
    assert "| `caption_no_index` | string | The caption without the `Figure 3:` prefix. |" in body
    assert "horawalavithana2023scitune" in body
    for chart in ("figure_types.png", "caption_lengths.png"):
        assert f"(assets/{chart})" in body
        assert (out / "assets" / chart).read_bytes().startswith(b"\x89PNG")
    assert validate_folder(out).ok, validate_folder(out).problems


def test_card_lists_instructions_when_present_and_loads_offline(tmp_path):
    from datasets import load_dataset

    out = make_out(tmp_path / "OUT")
    row = figure_row("2001.00001v1", 1)
    write_table(
        [
            {
                "id": "2001.00001v1/figure1/caption",
                "figure_id": row["figure_id"],
                "paper_id": row["paper_id"],
                "task": "caption",
                "images": [row["image"]],
                "messages": [
                    {"role": "user", "content": content_parts("<image>\nWrite the caption.")},
                    {"role": "assistant", "content": content_parts(row["caption_no_index"])},
                ],
                "template_id": "caption/0",
                "template_version": "1",
                "license": row["license"],
            }
        ],
        out / "instructions",
        INSTRUCTION_FEATURES,
    )
    card = write_card(out)
    header = read_header(card)
    assert [c["config_name"] for c in header["configs"]] == ["figures", "instructions"]
    assert [i["config_name"] for i in header["dataset_info"]] == ["figures", "instructions"]
    assert_configured_paths_exist(out, header)
    assert "| `caption` | 1 | 100.0% |" in card.read_text()

    figures = load_dataset(str(out), "figures", split="train")
    assert len(figures) == len(sample_rows())
    assert figures[0]["image"].size == (320, 200)
    instructions = load_dataset(str(out), "instructions", split="train")
    assert as_text(instructions[0]["messages"][1]["content"]) == row["caption_no_index"]


def test_reloading_a_re_extracted_folder_gives_the_new_rows(tmp_path):
    """datasets caches a local folder with `configs:` by name and card; the card must change with the data."""
    from datasets import load_dataset

    out = make_out(tmp_path / "OUT", sample_rows()[:2])
    write_card(out)
    assert len(load_dataset(str(out), "figures", split="train")) == 2
    make_out(out, sample_rows()[:5])
    write_card(out)
    assert len(load_dataset(str(out), "figures", split="train")) == 5


def test_stats_stream_over_shards_and_caption_lengths(tmp_path):
    rows = [figure_row("p", i, caption_no_index=" ".join(["word"] * i)) for i in range(1, 12)]
    out = make_out(tmp_path / "OUT", rows, shard_rows=3)
    stats = collect_stats(out)
    assert stats.shards["figures"] == 4 and stats.rows["figures"] == 11
    assert stats.caption_words == {i: 1 for i in range(1, 12)}
    text = write_card(out).read_text()
    assert "mean 6.0 words, min 1, median 6" in text


def test_rewriting_the_card_keeps_the_recorded_command(tmp_path):
    out = make_out(tmp_path / "OUT")
    write_card(out, command="scitune-curate extract papers -o OUT --workers 2")
    text = write_card(out).read_text()
    assert "- Command: `scitune-curate extract papers -o OUT --workers 2`" in text


def test_card_for_repo_names_the_repo(tmp_path):
    text = write_card(make_out(tmp_path / "OUT")).read_text()
    published = card_for_repo(text, "someone/sci-figs")
    assert 'load_dataset("someone/sci-figs", "figures", split="train")' in published
    assert LOAD_PLACEHOLDER not in published


@pytest.mark.corpus
def test_on_corpus_papers_the_card_renders_ctom_holds_captions_and_llava_reads_back(tmp_path):
    """Two real paired papers of ../shared/corpus through `extract --instructions` and `export llava`."""
    import json
    import subprocess
    import sys

    from PIL import Image

    from scitune.curate.exports import export
    from scitune.curate.filters import iter_rows
    from tests.conftest import CORPUS

    out = tmp_path / "OUT"
    papers = [str(CORPUS / "paired" / name) for name in ("lightkurve", "srds2022_ebmc")]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scitune.curate.cli",
            "extract",
            *papers,
            "-o",
            str(out),
            "--workers",
            "2",
            "--no-progress",
            "--instructions",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr

    header = read_header(out / "README.md")
    assert [c["config_name"] for c in header["configs"]][:2] == ["figures", "instructions"]
    assert_configured_paths_exist(out, header)
    captions = {
        r["figure_id"]: r["caption_no_index"]
        for r in iter_rows(out, "figures", columns=["figure_id", "caption_no_index"])
    }
    assert len({fid.split("/")[0] for fid in captions}) == 2 and len(captions) >= 8
    rows = list(iter_rows(out, "instructions", columns=["id", "figure_id", "task", "messages"]))
    ctom = [r for r in rows if r["task"] == "ctom"]
    assert len(ctom) == sum(bool(c.strip()) for c in captions.values())
    assert all(captions[r["figure_id"]].strip() in as_text(r["messages"][1]["content"]) for r in ctom)

    export("llava", out, tmp_path / "llava")
    records = json.loads((tmp_path / "llava" / "llava.json").read_text())
    for rec in records:  # the 10-line reader
        Image.open(tmp_path / "llava" / "images" / rec["image"]).load()
        assert [t["from"] for t in rec["conversations"]] == ["human", "gpt"]
    assert len(records) == len(rows)
    assert validate_folder(out).ok, validate_folder(out).problems[:5]
