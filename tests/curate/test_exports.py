"""Exports: LLaVA JSON, TRL messages, prompt/completion, SciCap Challenge COCO JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from scitune.curate.exports import NothingToExport, export, image_name, mention_groups, messages_row
from scitune.curate.filters import iter_rows
from scitune.curate.instructions import build_instructions
from tests.curate.sample_figures import make_out, sample_rows


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = make_out(tmp_path_factory.mktemp("exports") / "OUT")
    build_instructions(out)
    return out


def read_llava(dest: Path) -> list[tuple[str, Image.Image, list[dict]]]:
    """The 10-line reader a LLaVA user would write."""
    records = json.loads((dest / "llava.json").read_text())
    loaded = []
    for rec in records:
        image = Image.open(dest / "images" / rec["image"])
        image.load()
        assert [t["from"] for t in rec["conversations"]] == ["human", "gpt"]
        loaded.append((rec["id"], image, rec["conversations"]))
    return loaded


def test_llava_export_loads_with_a_short_reader(out, tmp_path):
    stats = export("llava", out, tmp_path / "llava")
    loaded = read_llava(tmp_path / "llava")
    instructions = {r["id"]: r for r in iter_rows(out, "instructions")}
    assert len(loaded) == stats.rows == len(instructions)
    assert stats.images == len(sample_rows())  # one file per figure, shared by its tasks
    for rid, image, conv in loaded:
        row = instructions[rid]
        assert image.size == (320, 200)
        assert conv[0]["value"] == row["messages"][0]["content"] and "<image>" in conv[0]["value"]
        assert conv[1]["value"] == row["messages"][1]["content"]


def test_llava_export_of_one_task(out, tmp_path):
    stats = export("llava", out, tmp_path / "ctom", tasks=["ctom"])
    records = json.loads((tmp_path / "ctom" / "llava.json").read_text())
    assert stats.rows == len(records) == 6 and all(r["id"].endswith("/ctom") for r in records)


def test_messages_export_is_trl_native_and_loads_with_datasets(out, tmp_path):
    from datasets import load_dataset

    stats = export("messages", out, tmp_path / "msg")
    ds = load_dataset(str(tmp_path / "msg"), split="train")
    assert len(ds) == stats.rows
    first = ds[0]
    assert first["images"][0].size == (320, 200)
    user, assistant = first["messages"]
    assert user["role"] == "user" and assistant["role"] == "assistant"
    assert [p["type"] for p in user["content"]].count("image") == 1
    image_part = next(p for p in user["content"] if p["type"] == "image")
    assert image_part["index"] == 0 and image_part["text"] is None
    assert assistant["content"] == [{"type": "text", "text": assistant["content"][0]["text"], "index": None}]


def test_messages_row_splits_at_image_tags():
    row = {
        "id": "x",
        "images": [],
        "messages": [
            {"role": "user", "content": "Look.\n<image>\nWhat is it?"},
            {"role": "assistant", "content": "A plot."},
        ],
    }
    converted = messages_row(row)["messages"]
    assert converted[0]["content"] == [
        {"type": "text", "text": "Look.", "index": None},
        {"type": "image", "text": None, "index": 0},
        {"type": "text", "text": "What is it?", "index": None},
    ]


def test_prompt_completion_export(out, tmp_path):
    export("prompt-completion", out, tmp_path / "pc", tasks=["caption"])
    lines = (tmp_path / "pc" / "prompt_completion.jsonl").read_text().splitlines()
    captions = {f["figure_id"]: f["caption_no_index"] for f in iter_rows(out, "figures")}
    assert len(lines) == len(captions)
    for line in lines:
        rec = json.loads(line)
        figure_id = rec["id"].rsplit("/", 1)[0]
        assert rec["completion"] == captions[figure_id]
        assert "<image>" in rec["prompt"]
        assert Image.open(tmp_path / "pc" / rec["images"][0]).size == (320, 200)


def test_scicap_export_is_coco_style_and_joins_on_image_id(out, tmp_path):
    stats = export("scicap", out, tmp_path / "scicap")
    data = json.loads((tmp_path / "scicap" / "scicap.json").read_text())
    assert stats.rows == len(data["images"]) == len(data["annotations"]) == 6
    images = {im["id"]: im for im in data["images"]}
    figures = {f["figure_id"]: f for f in iter_rows(out, "figures")}
    for ann in data["annotations"]:
        image = images[ann["image_id"]]
        fig = figures[image["figure_id"]]
        assert ann["caption"] == fig["caption"] and ann["caption_no_index"] == fig["caption_no_index"]
        assert ann["paragraph"] == fig["paragraphs"] and image["ocr"] == fig["ocr"]
        assert Image.open(tmp_path / "scicap" / "images" / image["file_name"]).size == (320, 200)
    types = {im["figure_id"]: im["figure_type"] for im in data["images"]}
    assert types["2001.00001v1/figure1"] == "Graph Plot"
    assert types["2001.00001v1/figure2"] == "Bar Chart"
    assert types["2001.00001v1/figure3"] == "Node Diagram"
    assert types["2001.00001v1/table1"] == "Table"
    assert types["1905.12345v2/figure2"] == "Scatterplot"
    mentioned = next(a for a in data["annotations"] if a["paragraph"])
    assert mentioned["mention"] and mentioned["mention"][0][0] in mentioned["paragraph"][0]


def test_mention_groups_follow_paragraphs():
    assert mention_groups(["A x. B y.", "C z."], ["A x.", "C z.", "D."]) == [["A x."], ["C z."], ["D."]]
    assert mention_groups([], []) == []


def test_image_names_are_unique_and_safe():
    png = b"\x89PNG\r\n\x1a\n"
    assert image_name("2307.01139v2/figure3", png) == "2307.01139v2__figure3.png"
    a, b = image_name("my paper/figure1", png), image_name("my:paper/figure1", png)
    assert a != b and "/" not in a and " " not in a and ":" not in b
    assert image_name("p/figure1", b"\xff\xd8\xff\xe0").endswith(".jpg")


def test_export_without_instructions_says_what_to_do(tmp_path):
    out = make_out(tmp_path / "OUT")
    with pytest.raises(NothingToExport, match="scitune-curate instructions"):
        export("llava", out, tmp_path / "dest")
    with pytest.raises(ValueError, match="unknown export format"):
        export("coco", out, tmp_path / "dest")


def test_export_command(out, tmp_path):
    from typer.testing import CliRunner

    from scitune.curate.cli import app

    done = CliRunner().invoke(app, ["export", "scicap", str(out), "-o", str(tmp_path / "s"), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert len(json.loads((tmp_path / "s" / "scicap.json").read_text())["images"]) == 6
    missing = CliRunner().invoke(app, ["export", "llava", str(tmp_path / "none"), "-o", str(tmp_path / "l")])
    assert missing.exit_code == 2 and "scitune-curate instructions" in missing.output
