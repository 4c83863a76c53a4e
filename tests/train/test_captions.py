"""Caption benchmark readers (SciCap, SciCap Challenge, VisText, our figure rows) and figure-type parsing."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scitune.schemas import FIGURE_FEATURES
from scitune.train import captions as cap
from tests.conftest import png_bytes


def scicap_record(
    fid="2101.00001v1-Figure3-1.png", tokens_key="tokens", bracket_key="2-2-advanced-euqation-bracket"
):
    return {
        "contains-subfigure": False,
        "Img-text": ["0", "10", "loss", "images", "annotations"],
        "paper-ID": "2101.00001v1",
        "figure-ID": fid,
        "figure-type": "Graph Plot",
        "0-originally-extracted": "Figure 3: Training loss (a) for 10 epochs.",
        "1-lowercase-and-token-and-remove-figure-index": {
            "caption": "training loss ( a ) for 10 epochs .",
            "sentence": [],
            "token": [],
        },
        "2-normalized": {
            "2-1-basic-num": {
                "caption": "training loss ( a ) for [NUM] epochs .",
                "sentence": [],
                "token": [],
            },
            bracket_key: {
                "sentence": [],
                tokens_key: ["training", "loss", "BRACKET-TK", "for", "[NUM]", "epochs", "."],
            },
        },
    }


def test_scicap_reference_variants_and_upstream_spellings(tmp_path):
    split = tmp_path / "SciCap-Caption-All" / "test"
    split.mkdir(parents=True)
    (split / "a.json").write_text(json.dumps(scicap_record()))
    (split / "b.json").write_text(
        json.dumps(scicap_record("2101.00002v1-Figure1-1.png", "token", "2-2-advanced-equation-bracket"))
    )
    images = tmp_path / "SciCap-No-Subfig-Img" / "test"
    images.mkdir(parents=True)
    (images / "2101.00001v1-Figure3-1.png").write_bytes(png_bytes())
    (images / "2101.00002v1-Figure1-1.png").write_bytes(png_bytes())

    def captions(reference):
        return [
            it.references["caption"][0] for it in cap.read_scicap(tmp_path / "SciCap-Caption-All", reference)
        ]

    assert captions("caption_no_index") == ["Training loss (a) for 10 epochs."] * 2
    assert captions("original") == ["Figure 3: Training loss (a) for 10 epochs."] * 2
    assert captions("lowercase") == ["training loss ( a ) for 10 epochs ."] * 2
    assert captions("basic-num")[0] == "training loss ( a ) for [NUM] epochs ."
    assert captions("advanced") == ["training loss BRACKET-TK for [NUM] epochs ."] * 2
    fmt, _ = cap.read_caption_data("scicap", split / "a.json")
    assert fmt == "scicap"  # "images" in a record's OCR words does not make it a challenge file
    item = next(cap.read_scicap(split / "a.json"))
    assert item.id == "2101.00001v1-Figure3-1" and item.figure_type == "Graph Plot"
    assert item.image == str(images / "2101.00001v1-Figure3-1.png")
    assert item.extra["ocr"] == ["0", "10", "loss", "images", "annotations"]


def test_scicap_missing_image_and_bad_files_become_errors(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(scicap_record()))
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "c.json").write_text(json.dumps({"images": []}))
    out = list(cap.read_scicap(tmp_path))
    assert [type(x).__name__ for x in out] == ["ReadError"] * 3
    assert [x.error for x in out] == ["image_missing", "unreadable_json", "not_scicap"]
    assert "--images" in out[0].message
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "2101.00001v1-Figure3-1.png").write_bytes(png_bytes())
    found = [x for x in cap.read_scicap(tmp_path, images=tmp_path / "imgs") if isinstance(x, cap.CaptionItem)]
    assert [x.id for x in found] == ["2101.00001v1-Figure3-1"]


def test_scicap_challenge_joins_on_image_id_not_list_position(tmp_path):
    data = {
        "images": [
            {"file_name": "f1.png", "id": 1, "figure_type": "Bar Chart", "ocr": ["a"]},
            {"file_name": "f2.png", "id": 2, "figure_type": "Node Diagram", "ocr": []},
            {"file_name": "f3.png", "id": 3, "figure_type": "Photo", "ocr": []},
        ],
        # out of step with `images`: pairing by index would give f1 the diagram caption
        "annotations": [
            {
                "image_id": 2,
                "id": 20,
                "caption": "Figure 2: The model.",
                "caption_no_index": "The model.",
                "paragraph": ["p2"],
                "mention": ["m2"],
            },
            {
                "image_id": 1,
                "id": 10,
                "caption": "Figure 1: Sales by year.",
                "caption_no_index": "Sales by year.",
                "paragraph": ["p1"],
                "mention": ["m1"],
            },
            {"image_id": 9, "id": 90, "caption": "Figure 9: Nobody.", "caption_no_index": "Nobody."},
        ],
    }
    (tmp_path / "test.json").write_text(json.dumps(data))
    (tmp_path / "test").mkdir()
    for name in ("f1.png", "f2.png", "f3.png"):
        (tmp_path / "test" / name).write_bytes(png_bytes())
    fmt, items = cap.read_caption_data("scicap", tmp_path / "test.json")
    assert fmt == "scicap-challenge"
    items = list(items)
    ok = {x.id: x for x in items if isinstance(x, cap.CaptionItem)}
    errors = {x.error: x for x in items if isinstance(x, cap.ReadError)}
    assert ok["f1"].references == {"caption": ["Sales by year."]} and ok["f1"].figure_type == "Bar Chart"
    assert ok["f2"].references == {"caption": ["The model."]} and ok["f2"].extra["mention"] == ["m2"]
    assert set(errors) == {"orphan_annotation", "no_caption"}  # annotation of image 9; f3 without caption
    assert "image_id 9" in errors["orphan_annotation"].message


def vistext_folder(tmp_path, with_images=(1, 2)):
    recs = [
        {
            "caption_id": "1_01",
            "img_id": 1,
            "split": "test",
            "scenegraph": "sg",
            "datatable": "dt",
            "caption_L1": "A line chart of sales.",
            "caption_L2L3": "Sales rise.",
            "L1_properties": ["line", "Sales", "Year", "Sales", "linear", "linear"],
        },
        {
            "caption_id": "1_02",
            "img_id": 1,
            "split": "test",
            "scenegraph": "sg",
            "datatable": "dt",
            "caption_L1": "A line chart of sales.",
            "caption_L2L3": "Sales double.",
            "L1_properties": ["line", "Sales", "Year", "Sales", "linear", "linear"],
        },
        {
            "caption_id": "2_01",
            "img_id": 2,
            "split": "test",
            "scenegraph": "sg",
            "datatable": "dt",
            "caption_L1": "A bar chart of votes.",
            "caption_L2L3": "B wins.",
            "L1_properties": "[bar, Votes, Party]",
        },
        {
            "caption_id": "3_01",
            "img_id": 3,
            "split": "test",
            "scenegraph": "sg",
            "datatable": "dt",
            "caption_L1": "An area chart.",
            "caption_L2L3": "Flat.",
            "L1_properties": "[area, x]",
        },
    ]
    (tmp_path / "data_test.json").write_text(json.dumps(recs))
    (tmp_path / "images").mkdir()
    for i in with_images:
        (tmp_path / "images" / f"{i}.png").write_bytes(png_bytes())
    return tmp_path


def test_vistext_groups_captions_per_chart(tmp_path):
    folder = vistext_folder(tmp_path)
    out = list(cap.read_vistext(folder, "test"))
    items = [x for x in out if isinstance(x, cap.CaptionItem)]
    assert [x.id for x in items] == ["1", "2"]
    one = items[0]
    assert one.references == {
        "L1": ["A line chart of sales."],
        "L2L3": ["Sales rise.", "Sales double."],
        "L1+L2L3": ["A line chart of sales. Sales rise.", "A line chart of sales. Sales double."],
    }
    assert one.figure_type == "line" and items[1].figure_type == "bar"
    assert [x.error for x in out if isinstance(x, cap.ReadError)] == ["image_missing"]
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(
        json.dumps({"_note": "x", "records": json.loads((folder / "data_test.json").read_text())})
    )
    assert [
        x.id
        for x in cap.read_vistext(wrapped, "test", images=folder / "images")
        if isinstance(x, cap.CaptionItem)
    ] == ["1", "2"]
    with pytest.raises(FileNotFoundError, match="data_validation.json"):
        list(cap.read_vistext(folder, "validation"))


def test_figure_rows_reader(tmp_path):
    (tmp_path / "figures").mkdir()
    rows = []
    for n, (caption, image) in enumerate(
        [("Figure 1: Loss curves.", png_bytes()), ("Figure 2: Empty.", None)], 1
    ):
        row = {k: None for k in FIGURE_FEATURES}
        row.update(
            figure_id=f"p/figure{n}",
            paper_id="p",
            kind="figure",
            number=str(n),
            source="pdf",
            caption=caption,
            caption_no_index=caption.split(": ", 1)[1],
            figure_type="line_plot",
            ocr=["loss"],
            image={"bytes": image, "path": None} if image else None,
        )
        rows.append(row)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=FIGURE_FEATURES.arrow_schema), tmp_path / "figures" / "0.parquet"
    )
    fmt, items = cap.read_caption_data("scicap", tmp_path)
    items = list(items)
    assert fmt == "scitune-figures"
    assert items[0].id == "p/figure1" and items[0].references == {"caption": ["Loss curves."]}
    assert items[0].image.startswith(b"\x89PNG") and items[0].figure_type == "line_plot"
    assert isinstance(items[1], cap.ReadError) and items[1].error == "no_image"


def test_figure_type_parsing_maps_taxonomy_onto_dataset_labels():
    scicap = cap.type_vocabulary({"Graph Plot", "Bar Chart", "Node Diagram"})
    assert cap.parse_figure_type("A line plot.", scicap) == "Graph Plot"
    assert cap.parse_figure_type("This is a bar chart showing counts.", scicap) == "Bar Chart"
    assert cap.parse_figure_type("node diagram", scicap) == "Node Diagram"
    assert cap.parse_figure_type("A diagram of the pipeline.", scicap) == "Node Diagram"
    assert (
        cap.parse_figure_type("Scatter plots of x and y.", scicap) == "Scatterplot"
    )  # plural, mapped, not gold
    assert cap.parse_figure_type("I cannot tell.", scicap) is None
    vistext = cap.type_vocabulary({"line", "bar", "area"})
    assert cap.parse_figure_type("An area chart.", vistext) == "area"
    assert cap.parse_figure_type("A bar chart, then a line.", vistext) == "bar"  # first mention wins
    ours = cap.type_vocabulary({"line_plot", "heatmap"})
    assert cap.parse_figure_type("A heatmap.", ours) == "heatmap"
    assert cap.parse_figure_type("A line plot.", ours) == "line_plot"
    assert cap.parse_figure_type("A pie chart.", ours) == "pie_chart"  # a taxonomy class outside gold: wrong


def test_strip_index():
    assert cap.strip_index("Figure 3: Loss.") == "Loss."
    assert cap.strip_index("Fig. 12. Loss.") == "Loss."
    assert cap.strip_index("Table IV: Results.") == "Results."
    assert cap.strip_index("Loss over Figure 3.") == "Loss over Figure 3."
