"""Matching and box rules of benchmarks/extraction_journals.py on tiny hand-written records, and the
journals gold files themselves (corpus-marked: the PDFs live in ../shared)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds benchmarks/

from benchmarks.extraction_journals import (
    DEGENERATE_PX,
    GOLD_DIR,
    MIN_IOU,
    box_iou,
    iou,
    load_gold_files,
    pool,
    score_pdf,
)
from tests.conftest import CORPUS, png_bytes


def _gold(page, kind, number, bbox, caption="a caption", label=None, **extra):
    return {
        "page": page,
        "kind": kind,
        "number": number,
        "label": label or kind.title(),
        "bbox": list(bbox),
        "caption": caption,
        **extra,
    }


def _row(page, kind, number, bbox, caption="a caption", image=None):
    row = {"page": page, "kind": kind, "number": number, "bbox": bbox, "caption_no_index": caption}
    if image is not None:
        row["image"] = {"bytes": image, "path": None}
    return row


def test_iou_hand_computed():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    # overlap 5 x 10 = 50, union 100 + 100 - 50 = 150
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0  # touching edges do not overlap
    assert iou((0, 0, 10, 10), None) == 0.0
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # empty boxes never match
    # a box grown by 10% on each side of a 100 x 100 float: 10000 / 14400 < 0.8
    assert iou((0, 0, 100, 100), (-10, -10, 110, 110)) == pytest.approx(10000 / 14400)
    assert iou((0, 0, 100, 100), (-10, -10, 110, 110)) < MIN_IOU


def test_box_iou_accepts_the_table_with_or_without_its_notes():
    table = _gold(1, "table", "1", (0, 0, 100, 50), bbox_with_notes=[0, 0, 100, 70])
    assert box_iou(table, (0, 0, 100, 70)) == 1.0  # the row kept the notes
    assert box_iou(table, (0, 0, 100, 50)) == 1.0  # the row left them out
    assert box_iou(_gold(1, "table", "1", (0, 0, 100, 50)), (0, 0, 100, 70)) == pytest.approx(50 / 70)


def test_score_pdf_found_misses_and_false_positives_with_reasons():
    gold = {
        "pdf": "x.pdf",
        "floats": [
            _gold(1, "figure", "1", (100, 100, 300, 300), caption="the cat sat"),
            _gold(2, "table", "I", (50, 50, 250, 150)),
            _gold(3, "figure", "2", (0, 0, 100, 100)),
            _gold(4, "figure", "3", (0, 0, 100, 100)),
            _gold(5, "figure", "4", (0, 0, 100, 100)),
        ],
    }
    rows = [
        # figure 1: IoU = 200*190 / (200*200) = 0.95 -> found; caption F1 = 4/7 ("the cat ran away")
        _row(1, "figure", "1", [100, 110, 300, 300], caption="the cat ran away"),
        # a second row of figure 1: a duplicate, a false positive
        _row(1, "figure", "1", [0, 0, 50, 50]),
        # table I: the caption's strip only -> a wrong crop (miss and false positive)
        _row(2, "table", "i", [50, 150, 250, 156]),
        # figure 2 on the wrong page
        _row(9, "figure", "2", [0, 0, 100, 100]),
        # a float the gold does not have
        _row(6, "table", "S3", [0, 0, 10, 10]),
        # figure 4 has a row without a box
        _row(5, "figure", "4", None),
    ]
    errors = [{"figure_id": "x/figure3", "stage": "float", "error": "no_region", "message": "no region"}]
    s = score_pdf(gold, rows, errors)
    assert s["counts"]["gold"] == 5 and s["counts"]["predicted"] == 6 and s["counts"]["found"] == 1
    assert s["recall"] == pytest.approx(1 / 5) and s["precision"] == pytest.approx(1 / 6)
    assert s["caption_f1"] == pytest.approx(4 / 7)
    assert [f["float"] for f in s["found"]] == ["Figure 1 (p1)"]

    misses = {m["float"]: m["reason"] for m in s["misses"]}
    assert misses["Table I (p2)"].startswith("box IoU 0.00 < 0.8")
    assert misses["Figure 2 (p3)"] == "row on another page: p9"
    assert misses["Figure 3 (p4)"].startswith("error row float/no_region")
    assert misses["Figure 4 (p5)"] == "row without a box"
    assert s["miss_classes"] == {
        "box IoU < 0.8": 1,
        "row on another page": 1,
        "error row float/no_region": 1,
        "row without a box": 1,
    }

    fps = sorted((f["row"], f["reason"].split(":")[0]) for f in s["false_positives"])
    assert fps == [
        ("figure 1 (p1)", "duplicate"),
        ("figure 2 (p9)", "wrong page"),
        ("figure 4 (p5)", "row without a box"),
        ("table S3 (p6)", "no gold float with this kind and number (a caption misread, or not a float)"),
        (
            "table i (p2)",
            "box IoU 0.00 < 0.8 (row [50.0, 150.0, 250.0, 156.0], gold [50.0, 50.0, 250.0, 150.0])",
        ),
    ]
    assert s["errors_by_reason"] == {"float/no_region": 1}


def test_equal_keys_are_paired_by_box_and_listing_numbers_may_carry_their_label():
    # SIGMOD's page 6 holds Figure 4 and Algorithm 4: both are (page 6, figure, 4) in the gold
    gold = {
        "floats": [
            _gold(6, "figure", "4", (0, 0, 500, 300), label="Figure"),
            _gold(6, "figure", "4", (50, 400, 300, 450), label="Algorithm"),
            _gold(3, "figure", "2", (0, 400, 300, 700), label="Listing"),
        ]
    }
    rows = [
        _row(6, "figure", "4", [50, 400, 300, 452]),  # the algorithm's box, listed first
        _row(6, "figure", "4", [0, 0, 500, 305]),
        _row(3, "figure", "Listing 2", [0, 400, 300, 700]),  # normalised to LISTING2
    ]
    s = score_pdf(gold, rows)
    assert s["counts"]["found"] == 3 and not s["misses"] and not s["false_positives"]
    # the plain number still matches a listing, but never a float with another number
    assert score_pdf(gold, [_row(3, "figure", "2", [0, 400, 300, 700])])["counts"]["found"] == 1
    assert score_pdf(gold, [_row(3, "figure", "Listing 3", [0, 400, 300, 700])])["counts"]["found"] == 0


def test_degenerate_images_are_counted_by_their_short_side():
    gold = {"floats": [_gold(1, "figure", "1", (0, 0, 504, 6))]}
    strip = _row(1, "figure", "1", [0, 0, 504, 6], image=png_bytes((504, DEGENERATE_PX - 14)))
    fine = _row(1, "figure", "2", [0, 0, 50, 50], image=png_bytes((DEGENERATE_PX, DEGENERATE_PX)))
    s = score_pdf(gold, [strip, fine])
    assert s["counts"]["degenerate"] == 1
    assert s["degenerate_rows"] == [{"row": "figure 1 (p1)", "image_px": [504, 6]}]


def test_not_floats_are_named_in_the_false_positive_reason():
    gold = {
        "floats": [],
        "not_floats": [{"page": 3, "what": "KEY CONCEPT 1 sidebar", "bbox": [40, 60, 290, 140]}],
    }
    s = score_pdf(gold, [_row(3, "figure", "1", [45, 70, 280, 130])])
    assert s["false_positives"][0]["reason"].endswith("overlaps a non-float: KEY CONCEPT 1 sidebar")


def test_pool_sums_counts_over_pdfs():
    a = score_pdf(
        {"floats": [_gold(1, "figure", "1", (0, 0, 10, 10))]}, [_row(1, "figure", "1", [0, 0, 10, 10])]
    )
    b = score_pdf({"floats": [_gold(1, "figure", "1", (0, 0, 10, 10))]}, [])
    p = pool([a, b])
    assert p["counts"]["gold"] == 2 and p["counts"]["found"] == 1
    assert p["recall"] == 0.5 and p["precision"] == 1.0 and p["caption_f1"] == 1.0
    assert p["miss_classes"] == {"no row and no error row": 1}


@pytest.mark.corpus
def test_every_gold_file_parses_and_its_boxes_lie_on_their_pages():
    import pymupdf

    golds = load_gold_files(GOLD_DIR)
    assert len(golds) == len(list((CORPUS / "journals").glob("*.pdf"))) == 12
    total = 0
    for gold in golds:
        pdf = CORPUS / "journals" / gold["pdf"]
        assert pdf.is_file(), gold["pdf"]
        assert gold["floats"], gold["pdf"]
        seen = set()
        with pymupdf.open(pdf) as doc:
            assert gold["pages"] == doc.page_count
            for f in gold["floats"]:
                where = f"{gold['pdf']} {f['label']} {f['number']} p{f['page']}"
                assert f["kind"] in ("figure", "table"), where
                assert f["label"] and f["number"] and f["caption_full"], where
                assert 1 <= f["page"] <= doc.page_count, where
                page = doc[f["page"] - 1]
                width, height = page.cropbox.width, page.cropbox.height  # unrotated, as bbox
                assert f["page_size"] == pytest.approx([width, height], abs=0.06), where
                assert f["rotation"] == page.rotation, where
                for key in ("bbox", "bbox_with_notes"):
                    if key not in f:
                        continue
                    x0, y0, x1, y1 = f[key]
                    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (where, key)
                    assert min(x1 - x0, y1 - y0) >= 5, (where, key)  # no strips in the gold
                if "bbox_with_notes" in f:
                    bx, nx = f["bbox"], f["bbox_with_notes"]
                    assert nx[0] <= bx[0] + 1 and nx[1] <= bx[1] + 1 and nx[2] >= bx[2] - 1 and nx[3] >= bx[3]
                key = (f["page"], f["label"], f["number"])
                assert key not in seen, where  # one record per float and page part
                seen.add(key)
                total += 1
    assert total == 147
    assert [g["pdf"] for g in golds if g.get("scanned")] == ["pwl_procieee1978_sift_scanned_ocr.pdf"]


@pytest.mark.corpus
def test_gold_json_is_plain_utf8_with_the_documented_fields():
    allowed = {
        "page", "kind", "label", "number", "caption", "caption_full", "bbox", "page_size", "rotation",
        "notes", "continued", "bbox_with_notes",
    }  # fmt: skip
    for path in sorted(GOLD_DIR.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem + ".pdf" == gold["pdf"]
        for f in gold["floats"]:
            assert set(f) <= allowed, (path.name, set(f) - allowed)
            assert not any(ord(c) < 32 for c in f["caption"] + f["caption_full"]), path.name
