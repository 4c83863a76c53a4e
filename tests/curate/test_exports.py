"""Exports: LLaVA JSON, TRL messages, prompt/completion, SciCap Challenge COCO JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from scitune.curate.exports import (
    NothingToExport,
    export,
    image_name,
    llava_record,
    mention_groups,
    messages_row,
    scicap_2021_record,
)
from scitune.curate.filters import count_rows, iter_rows
from scitune.curate.instructions import build_instructions
from scitune.schemas import content_text
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
        assert conv[0]["value"] == content_text(row["messages"][0]["content"])
        assert conv[0]["value"].count("<image>") == 1 and "<image>" not in conv[1]["value"]
        assert conv[1]["value"] == content_text(row["messages"][1]["content"])


def llava_reads(dest: Path, image_folder: Path) -> list[dict]:
    """What LLaVA's LazySupervisedDataset (haotian-liu/LLaVA, llava/train/train.py) does with each record,
    as its code reads it: the image is `os.path.join(image_folder, record["image"])`; turns alternate
    `human` / `gpt` from the first (preprocess_v1 asserts it); `preprocess_multimodal` moves the one
    `<image>` of a turn to its start; `preprocess_plain` keeps two turns and replaces the first by
    `<image>`; `tokenizer_image_token` splits the prompt at `<image>` (one image -> two chunks)."""
    out = []
    for rec in json.loads((dest / "llava.json").read_text()):
        assert set(rec) == {"id", "image", "conversations"}
        path = os.path.join(image_folder, rec["image"])
        assert Path(path).resolve().is_relative_to(image_folder.resolve())
        Image.open(path).convert("RGB")
        turns = rec["conversations"]
        assert all(set(t) == {"from", "value"} for t in turns)
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
        first = turns[0]["value"]
        assert first.count("<image>") == 1 and all("<image>" not in t["value"] for t in turns[1:])
        moved = "<image>\n" + first.replace("<image>", "").strip()  # preprocess_multimodal
        prompt = moved + "".join(t["value"] for t in turns[1:])
        assert len(prompt.split("<image>")) == 2  # tokenizer_image_token: one image slot
        plain = ["<image>", turns[1]["value"]]  # preprocess_plain (the align stage)
        out.append({"id": rec["id"], "prompt": moved, "plain": plain})
    return out


def test_llava_export_reads_as_llava_reads_it_from_any_directory(out, tmp_path, monkeypatch):
    export("llava", out, tmp_path / "llava")
    monkeypatch.chdir(tmp_path.parent)
    read = llava_reads(tmp_path / "llava", tmp_path / "llava" / "images")
    assert len(read) == count_rows(out, "instructions")
    by_id = {r["id"]: r for r in iter_rows(out, "instructions")}
    for r in read:
        user = by_id[r["id"]]["messages"][0]["content"]
        text = " ".join(p["text"] for p in user if p["type"] == "text")
        assert (
            r["prompt"].startswith("<image>\n")
            and r["prompt"].replace("<image>", " ").split() == text.split()
        )


def test_llava_export_is_a_hub_dataset_with_a_card(out, tmp_path):
    import yaml
    from datasets import load_dataset

    export("llava", out, tmp_path / "llava")
    card = (tmp_path / "llava" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert sorted(header["license"]) == ["cc-by-4.0", "mit"]
    assert "image-text-to-text" in header["task_categories"]
    assert header["configs"][0]["data_files"] == [{"split": "train", "path": "llava.json"}]
    assert [f["name"] for f in header["dataset_info"]["features"]] == ["id", "image", "conversations"]
    assert "@article{horawalavithana2023scitune" in card and "--image_folder images" in card
    records = load_dataset(str(tmp_path / "llava"), split="train")
    assert len(records) == count_rows(out, "instructions")
    assert records[0]["conversations"][0]["from"] == "human"


@pytest.mark.parametrize("fmt", ["messages", "prompt-completion"])
def test_parquet_exports_have_a_full_card(out, tmp_path, fmt):
    import yaml

    stats = export(fmt, out, tmp_path / fmt)
    card = (tmp_path / fmt / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert sorted(header["license"]) == ["cc-by-4.0", "mit"]
    assert header["task_categories"] == ["image-text-to-text", "visual-question-answering"]
    assert header["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/*.parquet"}]}
    ]
    names = [f["name"] for f in header["dataset_info"]["features"]]
    assert names[:5] == ["id", "figure_id", "task", "license", "images"]
    assert names[5:] == (["messages"] if fmt == "messages" else ["prompt", "completion"])
    assert header["dataset_info"]["download_size"] > 0
    assert header["size_categories"] == ["n<1K"]
    assert f"{stats.rows:,} records from 2 scientific papers" in card
    assert "SFTTrainer" in card and "@article{horawalavithana2023scitune" in card
    assert "| `cc-by-4.0` |" not in card and "| `CC-BY-4.0` |" in card  # papers per licence, as normalised


def test_llava_export_of_one_task(out, tmp_path):
    stats = export("llava", out, tmp_path / "ctom", tasks=["ctom"])
    records = json.loads((tmp_path / "ctom" / "llava.json").read_text())
    assert stats.rows == len(records) == 6 and all(r["id"].endswith("/ctom") for r in records)


def test_messages_export_is_trl_native_and_loads_with_datasets(out, tmp_path, monkeypatch):
    from datasets import load_dataset

    stats = export("messages", out, tmp_path / "msg")
    monkeypatch.chdir(tmp_path.parent)  # images are embedded: any working directory will do
    ds = load_dataset(str(tmp_path / "msg"), split="train")
    assert len(ds) == stats.rows == count_rows(out, "instructions")
    instructions = {r["id"]: r for r in iter_rows(out, "instructions")}
    for rec in ds:
        row = instructions[rec["id"]]
        assert rec["messages"] == row["messages"] and rec["license"] == row["license"]
        assert rec["images"][0].size == (320, 200) and len(rec["images"]) == 1
        user, assistant = rec["messages"]
        assert [p["type"] for p in user["content"]].count("image") == 1
        assert assistant["content"] == [{"type": "text", "text": assistant["content"][0]["text"]}]


def test_messages_row_keeps_the_stored_parts():
    parts = [
        {"type": "text", "text": "Look."},
        {"type": "image", "text": None},
        {"type": "text", "text": "What?"},
    ]
    row = {
        "id": "x",
        "figure_id": "p/figure1",
        "task": "caption",
        "license": None,
        "images": [],
        "messages": [
            {"role": "user", "content": parts},
            {"role": "assistant", "content": [{"type": "text", "text": "A plot."}]},
        ],
    }
    assert messages_row(row)["messages"][0]["content"] == parts
    record = llava_record(row, "p__figure1.png")
    assert record["conversations"][0] == {"from": "human", "value": "Look.\n<image>\nWhat?"}


def test_prompt_completion_export_loads_anywhere_without_placeholders(out, tmp_path, monkeypatch):
    from datasets import Image, List, load_dataset

    export("prompt-completion", out, tmp_path / "pc", tasks=["caption"])
    captions = {f["figure_id"]: f["caption_no_index"] for f in iter_rows(out, "figures")}
    monkeypatch.chdir(tmp_path.parent)
    ds = load_dataset(str(tmp_path / "pc"), split="train").cast_column("images", List(Image()))
    assert len(ds) == len(captions)
    for rec in ds:
        assert rec["completion"] == [
            {"role": "assistant", "content": [{"type": "text", "text": captions[rec["figure_id"]]}]}
        ]
        (user,) = rec["prompt"]
        assert user["role"] == "user" and [p["type"] for p in user["content"]].count("image") == 1
        assert all("<image>" not in (p["text"] or "") for p in user["content"])
        assert rec["images"][0].size == (320, 200)


def challenge_records(path: Path) -> tuple[list[str], list[str]]:
    """The SciCap Challenge baseline's reading of its data, as published (tingyaohsu/Scicap-challenge
    baseline.py): `load_dataset("json", field="annotations")`, then per record the first paragraph as
    the input and `caption_no_index` as the target."""
    from datasets import load_dataset

    annotations = load_dataset("json", data_files={"train": str(path)}, field="annotations", split="train")
    inputs, targets = [], []
    for paragraph, target in zip(annotations["paragraph"], annotations["caption_no_index"]):
        inputs.append(paragraph[0])  # IndexError on an empty list: the export must never write one
        targets.append(target)
    return inputs, targets


def test_scicap_export_is_coco_style_and_the_challenge_reader_reads_it(out, tmp_path):
    stats = export("scicap", out, tmp_path / "scicap")
    data = json.loads((tmp_path / "scicap" / "scicap.json").read_text())
    assert set(data) == {"info", "images", "annotations"}
    assert stats.rows == len(data["images"]) == len(data["annotations"]) == 5
    # figure3 of 2001.00001v1 has no mention paragraph: left out, and the summary says so
    assert stats.left_out == {
        "no mention paragraph (the Challenge baseline reads paragraph[0]; see scicap-2021)": 1
    }
    assert any("left out 1" in line for line in stats.lines())
    images = {im["id"]: im for im in data["images"]}
    figures = {f["figure_id"]: f for f in iter_rows(out, "figures")}
    assert "2001.00001v1/figure3" not in {im["figure_id"] for im in data["images"]}
    for ann in data["annotations"]:
        assert set(ann) == {"image_id", "id", "caption", "caption_no_index", "paragraph", "mention"}
        image = images[ann["image_id"]]
        assert {"file_name", "id", "figure_type", "ocr"} <= set(image)
        fig = figures[image["figure_id"]]
        assert ann["caption"] == fig["caption"] and ann["caption_no_index"] == fig["caption_no_index"]
        assert ann["paragraph"] == fig["paragraphs"] and image["ocr"] == fig["ocr"]
        assert Image.open(tmp_path / "scicap" / "images" / image["file_name"]).size == (320, 200)
    inputs, targets = challenge_records(tmp_path / "scicap" / "scicap.json")
    assert targets == [a["caption_no_index"] for a in data["annotations"]]
    assert inputs == [a["paragraph"][0] for a in data["annotations"]]
    types = {im["figure_id"]: im["figure_type"] for im in data["images"]}
    assert types["2001.00001v1/figure1"] == "Graph Plot"
    assert types["2001.00001v1/figure2"] == "Bar Chart"
    assert types["2001.00001v1/table1"] == "Table"
    assert types["1905.12345v2/figure2"] == "Scatterplot"
    mentioned = data["annotations"][0]
    assert mentioned["mention"] and mentioned["mention"][0][0] in mentioned["paragraph"][0]


def test_scicap_export_is_a_hub_dataset_with_a_card(out, tmp_path):
    import yaml
    from datasets import load_dataset

    export("scicap", out, tmp_path / "scicap")
    card = (tmp_path / "scicap" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["task_categories"] == ["image-to-text"] and sorted(header["license"]) == [
        "cc-by-4.0",
        "mit",
    ]
    assert [c["config_name"] for c in header["configs"]] == ["annotations", "images"]
    assert "@inproceedings{hsu-etal-2021-scicap-generating" in card
    annotations = load_dataset(str(tmp_path / "scicap"), "annotations", split="train")
    images = load_dataset(str(tmp_path / "scicap"), "images", split="train")
    assert len(annotations) == len(images) == 5 and all(a["paragraph"] for a in annotations)
    assert sorted(annotations["image_id"]) == sorted(images["id"])


def scicap_2021_records(root: Path) -> list[tuple[str, dict, Image.Image]]:
    """A reader of the SciCap 2021 release as published (tingyaohsu/SciCap README, and the readers
    people wrote for it): list each image folder's split, and open `{image stem}.json` beside it."""
    found = []
    for folder in ("SciCap-No-Subfig-Img", "SciCap-Yes-Subfig-Img"):
        for split in ("train", "val", "test"):
            images = root / folder / split
            for name in sorted(os.listdir(images)) if images.is_dir() else []:
                record = json.loads(
                    (root / "SciCap-Caption-All" / split / (name.split(".png")[0] + ".json")).read_text()
                )
                found.append((name, record, Image.open(images / name)))
    return found


def test_scicap_2021_export_is_the_release_layout(out, tmp_path):
    from datasets import load_dataset

    stats = export("scicap-2021", out, tmp_path / "s21")
    figures = {f["figure_id"]: f for f in iter_rows(out, "figures")}
    found = scicap_2021_records(tmp_path / "s21")
    assert stats.rows == len(found) == len(figures)  # no paragraph in this layout: every captioned figure
    by_id = {rec["figure-ID"]: rec for _, rec, _ in found}
    rec = by_id["2001.00001v1-Figure1-1.png"]
    fig = figures["2001.00001v1/figure1"]
    assert list(rec) == [
        "contains-subfigure",
        "Img-text",
        "paper-ID",
        "figure-ID",
        "figure-type",
        "0-originally-extracted",
        "1-lowercase-and-token-and-remove-figure-index",
        "2-normalized",
    ]
    assert rec["paper-ID"] == "2001.00001v1" and rec["figure-type"] == "Graph Plot"
    assert rec["0-originally-extracted"] == fig["caption"] and rec["Img-text"] == fig["ocr"]
    lowered = rec["1-lowercase-and-token-and-remove-figure-index"]
    assert set(lowered) == {"caption", "sentence", "token"} and lowered["caption"] == " ".join(
        lowered["token"]
    )
    assert lowered["caption"].startswith("step response of the identified model ( blue )")
    assert " ".join(lowered["sentence"]) == lowered["caption"]
    assert set(rec["2-normalized"]) == {"2-1-basic-num", "2-2-advanced-euqation-bracket"}
    assert "NUM-TK" in rec["2-normalized"]["2-1-basic-num"]["caption"]  # "experiment 2", "2%", "0.5"
    advanced = rec["2-normalized"]["2-2-advanced-euqation-bracket"]
    assert set(advanced) == {"caption", "sentence", "tokens"}  # the upstream key spelling
    assert "BRACKET-TK" in advanced["tokens"] and "( blue )" not in advanced["caption"]
    assert "EQUAT-TK" in advanced["tokens"]  # "t = 0.5 s"
    assert "1905.12345v2-Table1-1.png" not in by_id and "2001.00001v1-Table1-1.png" in by_id
    for name, rec, image in found:
        assert name == rec["figure-ID"] and image.format == "PNG" and image.size == (320, 200)
    card = (tmp_path / "s21" / "README.md").read_text()
    assert "image-to-text" in card and "@inproceedings{hsu-etal-2021-scicap-generating" in card
    loaded = load_dataset(str(tmp_path / "s21"), split="train")
    assert sorted(loaded["figure-ID"]) == sorted(by_id)
    assert loaded[0]["2-normalized"] == by_id[loaded[0]["figure-ID"]]["2-normalized"]


@pytest.mark.corpus
def test_scicap_2021_normalisation_reproduces_the_real_record():
    """The README's real record (../shared corpus): from its original caption, our three levels match."""
    path = (
        Path(__file__).parents[2]
        / ".."
        / "shared"
        / "corpus"
        / "scicap"
        / "sample_record_1001.0025v1-Figure2-1.json"
    )
    if not path.is_file():
        pytest.skip("corpus not available")
    real = json.loads(path.read_text())
    fig = {
        "paper_id": real["paper-ID"],
        "figure_id": "1001.0025v1/figure2",
        "kind": "figure",
        "number": "2",
        "figure_type": "line_plot",
        "caption": real["0-originally-extracted"],
        "caption_no_index": real["0-originally-extracted"].split(": ", 1)[1],
        "ocr": real["Img-text"],
        "subfigures": [{"label": "a", "caption": ""}, {"label": "b", "caption": ""}],
    }
    ours = scicap_2021_record(fig)
    assert ours == real  # every key, its spelling, its nesting and every normalised value


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


def test_version_1_instructions_are_refused_with_the_migration(tmp_path):
    from datasets import Features, Value

    from scitune.curate.writer import write_table
    from scitune.schemas import INSTRUCTION_FEATURES, validate_folder

    out = make_out(tmp_path / "OUT")
    v1 = Features(
        {**INSTRUCTION_FEATURES, "messages": [{"role": Value("string"), "content": Value("string")}]}
    )
    fig = next(iter_rows(out, "figures"))
    row = {
        "id": f"{fig['figure_id']}/caption",
        "figure_id": fig["figure_id"],
        "paper_id": fig["paper_id"],
        "task": "caption",
        "images": [fig["image"]],
        "messages": [
            {"role": "user", "content": "<image>\nWrite the caption."},
            {"role": "assistant", "content": fig["caption_no_index"]},
        ],
        "template_id": "caption/0",
        "template_version": "1",
        "license": fig["license"],
    }
    write_table([row], out / "instructions", v1, prefix="instructions")
    with pytest.raises(NothingToExport, match="schema version 1.*scitune-curate instructions"):
        export("messages", out, tmp_path / "dest")
    assert any("schema version 1" in p for p in validate_folder(out).problems)


def test_export_command(out, tmp_path):
    from typer.testing import CliRunner

    from scitune.curate.cli import app

    done = CliRunner().invoke(app, ["export", "scicap", str(out), "-o", str(tmp_path / "s"), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert len(json.loads((tmp_path / "s" / "scicap.json").read_text())["images"]) == 5
    assert "left out 1: no mention paragraph" in done.output
    done = CliRunner().invoke(
        app, ["export", "scicap-2021", str(out), "-o", str(tmp_path / "t"), "--no-progress"]
    )
    assert done.exit_code == 0, done.output
    assert len(list((tmp_path / "t" / "SciCap-Caption-All" / "train").glob("*.json"))) == 6
    missing = CliRunner().invoke(app, ["export", "llava", str(tmp_path / "none"), "-o", str(tmp_path / "l")])
    assert missing.exit_code == 2 and "scitune-curate instructions" in missing.output
