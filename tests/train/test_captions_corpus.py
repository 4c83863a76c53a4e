"""Caption readers on the real SciCap and VisText samples in ../shared/corpus (skipped when absent)."""

from __future__ import annotations

import json
import shutil

import pytest

from scitune.train import captions as cap
from tests.conftest import CORPUS, png_bytes

pytestmark = pytest.mark.corpus


def test_real_scicap_record(tmp_path):
    split = tmp_path / "SciCap-Caption-All" / "test"
    split.mkdir(parents=True)
    shutil.copy(
        CORPUS / "scicap" / "sample_record_1001.0025v1-Figure2-1.json", split / "1001.0025v1-Figure2-1.json"
    )
    images = tmp_path / "SciCap-Yes-Subfig-Img" / "test"  # the figure has subfigures
    images.mkdir(parents=True)
    shutil.copy(
        CORPUS / "scicap" / "1001.0025v1-Figure2-1_README_example.png", images / "1001.0025v1-Figure2-1.png"
    )

    [item] = cap.read_scicap(tmp_path / "SciCap-Caption-All")
    assert item.id == "1001.0025v1-Figure2-1" and item.figure_type == "Graph Plot"
    assert item.references["caption"][0].startswith(
        "Impact of the replay attack, as a function of the spoofing"
    )
    assert item.extra["paper_id"] == "1001.0025v1" and "Attack" in item.extra["ocr"]
    [advanced] = cap.read_scicap(tmp_path / "SciCap-Caption-All", reference="advanced")
    assert (
        "BRACKET-TK location offset" in advanced.references["caption"][0]
    )  # upstream key `...-euqation-bracket`
    [lower] = cap.read_scicap(tmp_path / "SciCap-Caption-All", reference="lowercase")
    assert lower.references["caption"][0].startswith("impact of the replay attack , as a function")


def test_real_vistext_records(tmp_path):
    data = json.loads((CORPUS / "vistext" / "sample_records_from_notebook.json").read_text())
    (tmp_path / "data_train.json").write_text(json.dumps(data))  # the sample keeps records under "records"
    (tmp_path / "images").mkdir()
    for img_id in (1, 2, 3):
        (tmp_path / "images" / f"{img_id}.png").write_bytes(png_bytes())
    items = list(cap.read_vistext(tmp_path, "train"))
    assert [i.id for i in items] == ["1", "2"]
    assert [i.figure_type for i in items] == ["line", "area"]  # L1_properties as pandas printed it
    minecraft = items[1]
    assert len(minecraft.references["L1"]) == 1 and len(minecraft.references["L2L3"]) == 2
    assert minecraft.references["L1+L2L3"][1].endswith(
        "Minecraft viewing on Twitch sharply increased in the last few years."
    )
    [val] = cap.read_vistext(tmp_path / "data_train.json", "validation")
    assert val.id == "3" and len(val.references["L2L3"]) == 2
