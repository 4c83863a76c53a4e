"""Shard commits, recovery after an interrupted commit, and atomic table replacement."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from scitune.curate.writer import RunWriter, write_table
from scitune.schemas import ERROR_FEATURES, FIGURE_FEATURES, SCHEMA_VERSION, validate_row
from tests.conftest import png_bytes


def figure(paper="p1", number="1", caption="A plot of x.") -> dict:
    return {
        "figure_id": f"{paper}/figure{number}",
        "paper_id": paper,
        "kind": "figure",
        "number": number,
        "source": "pdf",
        "page": 2,
        "bbox": [10.0, 20.0, 200.0, 180.0],
        "image": png_bytes(),
        "caption": f"Figure {number}: {caption}",
        "caption_no_index": caption,
        "label": None,
        "figure_type": "line_plot",
        "ocr": ["x", "y"],
        "ocr_source": "text_layer",
        "paragraphs": [f"As Figure {number} shows, x grows."],
        "mentions": [f"As Figure {number} shows, x grows."],
        "subfigures": [],
        "subfigure_images": [],
        "graphics": [],
        "pdf_caption": None,
        "alignment_score": None,
        "region_source": "rules",
        "provenance": {
            "input": f"{paper}.pdf",
            "sha256": "0" * 64,
            "extractor": "scitune test",
            "schema_version": SCHEMA_VERSION,
            "latex_input": None,
            "latex_sha256": None,
            "dpi": 150,
        },
        "license": "CC-BY-4.0",
        "paper": None,
        "figure_type_score": 0.8,
        "ocr_boxes": [[0.1, 0.9, 0.15, 0.95], [0.02, 0.4, 0.06, 0.45]],
    }


def error(inp="bad.pdf") -> dict:
    return {
        "input": inp,
        "sha256": None,
        "paper_id": "bad",
        "figure_id": None,
        "stage": "open",
        "error": "PdfOpenError",
        "message": "not a PDF",
        "extractor": "scitune test",
        "schema_version": 1,
    }


def test_sample_rows_are_valid():
    assert validate_row(figure()) == []
    assert validate_row(error(), "errors") == []


def test_the_validator_checks_ocr_boxes_and_type_scores():
    row = figure()
    assert validate_row({**row, "ocr_source": "mixed"}) == []
    assert any("2 boxes for 3" in p for p in validate_row({**row, "ocr": ["x", "y", "z"]}))
    flipped = [[0.5, 0.1, 0.2, 0.3], [0, 0, 1, 1]]
    assert any("0 <= x0" in p for p in validate_row({**row, "ocr_boxes": flipped}))
    assert any("figure_type_score" in p for p in validate_row({**row, "figure_type_score": 1.5}))
    assert validate_row({**row, "ocr_source": "latex", "ocr_boxes": []}) == []  # LaTeX words have no boxes
    assert any("ocr_source" in p for p in validate_row({**row, "ocr_source": "guess"}))


def test_commit_writes_shards_with_features_metadata_and_manifest(tmp_path):
    w = RunWriter(tmp_path)
    w.add("k1", "p1", [figure("p1", "1"), figure("p1", "2")], [])
    w.add("k2", "bad", [], [error()])
    w.add("k3", "empty", [], [])  # a paper with no floats is still "done"
    w.commit()
    assert w.done() == {"k1": "p1", "k2": "bad", "k3": "empty"}
    shard = next((tmp_path / "figures").glob("*.parquet"))
    schema = pq.read_schema(shard)
    assert b"huggingface" in schema.metadata
    assert pq.read_table(shard).column("figure_id").to_pylist() == ["p1/figure1", "p1/figure2"]
    assert len(list((tmp_path / "errors").glob("*.parquet"))) == 1


def test_buffer_commits_by_rows(tmp_path):
    w = RunWriter(tmp_path, shard_rows=2)
    w.add("k1", "a", [figure("a")], [])
    assert w.done() == {}
    w.add("k2", "b", [figure("b")], [])
    assert set(w.done()) == {"k1", "k2"}  # committed when the buffer reached 2 rows


def test_recover_removes_uncommitted_shards(tmp_path):
    w = RunWriter(tmp_path)
    w.add("k1", "a", [figure("a")], [])
    w.commit()
    # simulate a crash between writing a shard and writing its manifest
    orphan = tmp_path / "figures" / "part-deadbeef.parquet"
    orphan.write_bytes((next((tmp_path / "figures").glob("*.parquet"))).read_bytes())
    (tmp_path / "figures" / ".part-x.parquet.1234.tmp").write_bytes(b"partial")
    removed = RunWriter(tmp_path).recover()
    assert removed == 2
    assert not orphan.exists()
    assert len(list((tmp_path / "figures").iterdir())) == 1


def test_write_table_replaces_folder_only_when_complete(tmp_path):
    folder = tmp_path / "errors"
    write_table([error("a"), error("b")], folder, ERROR_FEATURES, shard_rows=1)
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]

    def broken():
        yield error("c")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_table(broken(), folder, ERROR_FEATURES)
    # the old table is intact and no temp folder is left behind
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["errors"]
    write_table([error("z")], folder, ERROR_FEATURES)
    assert pq.read_table(folder).column("input").to_pylist() == ["z"]


def test_images_decode_through_datasets(tmp_path):
    import datasets

    write_table([figure()], tmp_path / "figures", FIGURE_FEATURES)
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "figures" / "*.parquet"), split="train")
    assert ds[0]["image"].size == (32, 24)
    assert ds[0]["bbox"] == [10.0, 20.0, 200.0, 180.0]


def _png(size) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(size) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format="JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("encode", [_png, _jpeg])
def test_a_degenerate_image_is_flagged(encode):
    row = figure()
    row["image"] = encode((504, 6))  # the strip holding only the rule above a caption
    assert any("degenerate (504 x 6 px" in p for p in validate_row(row))
    row["image"] = {"bytes": encode((40, 40)), "path": None}
    assert validate_row(row) == []


def test_region_source_is_checked():
    row = figure()
    row["region_source"] = "guess"
    assert any("region_source 'guess'" in p for p in validate_row(row))
    row["region_source"], row["bbox"] = "layout_model", None
    assert any("without a PDF region" in p for p in validate_row(row))
