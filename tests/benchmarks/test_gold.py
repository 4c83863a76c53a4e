"""Scoring rules of benchmarks/gold.py on small hand-computed cases."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from benchmarks.gold import (
    compare_images,
    crop_similarity,
    match_floats,
    normalize_number,
    paragraph_matches,
    pool,
    score_paper,
    token_f1,
    trim_margins,
)
from scitune.curate.records import Float


def test_token_f1_hand_computed():
    # "the cat sat" vs "the cat ran away": common 2, P = 2/3, R = 2/4 -> F1 = 4/7
    assert token_f1("The cat sat.", "the CAT ran away") == pytest.approx(4 / 7)
    assert token_f1("", "") == 1.0
    assert token_f1("a", "") == 0.0
    assert token_f1("x y", "z") == 0.0
    # repeated tokens count as a multiset: "a a b" vs "a b b" -> common 2, P = R = 2/3
    assert token_f1("a a b", "a b b") == pytest.approx(2 / 3)


def test_normalize_number_keeps_printed_form():
    assert normalize_number(" A.1 ") == "A.1"
    assert normalize_number("ii") == "II"
    assert normalize_number("3.") == "3"
    assert normalize_number("S 2") == "S2"
    assert normalize_number("II") != normalize_number("2")  # roman stays roman


def test_match_floats_by_kind_and_number_each_used_once():
    gold = [
        {"kind": "figure", "number": "1"},
        {"kind": "table", "number": "I"},
        {"kind": "figure", "number": "2"},
    ]
    pred = [
        {"kind": "figure", "number": "1"},
        {"kind": "figure", "number": "1"},
        {"kind": "table", "number": "i"},
        {"kind": "table", "number": "2"},
    ]
    pairs = match_floats(gold, pred)
    assert [(g["kind"], g["number"], p["number"]) for g, p in pairs] == [
        ("figure", "1", "1"),
        ("table", "I", "i"),
    ]


def test_paragraph_rule():
    gold_par = " ".join(f"w{i}" for i in range(60))
    assert paragraph_matches(gold_par, gold_par)
    # first 25 of 60 tokens: F1 = 2*1*(25/60)/(1+25/60) ~ 0.59 -> matches by F1
    assert paragraph_matches(" ".join(f"w{i}" for i in range(25)), gold_par)
    # 20 of 60 tokens: F1 = 0.5 exactly -> matches
    assert paragraph_matches(" ".join(f"w{i}" for i in range(20)), gold_par)
    # 19 tokens: F1 < 0.5 and too short for the containment rule
    assert not paragraph_matches(" ".join(f"w{i}" for i in range(19)), gold_par)
    long_gold = " ".join(f"w{i}" for i in range(200))
    piece = " ".join(f"w{i}" for i in range(100, 130))  # 30 tokens, all inside, F1 ~ 0.26
    assert paragraph_matches(piece, long_gold)
    assert not paragraph_matches(piece + " " + " ".join(f"x{i}" for i in range(10)), long_gold)


def test_score_paper_hand_computed():
    gold = {
        "floats": [
            {
                "kind": "figure",
                "number": "1",
                "page": 2,
                "caption": "a b c d",
                "mentions": [{"paragraph": "p q r s"}, {"paragraph": "t u v w"}],
            },
            {"kind": "figure", "number": "2", "page": 3, "caption": "e f", "mentions": []},
            {"kind": "table", "number": "1", "page": 4, "caption": "g h", "mentions": [{"paragraph": "x y"}]},
            {"kind": "figure", "number": "3", "page": None, "caption": "not printed", "mentions": []},
        ]
    }
    predicted = [
        Float("figure", "1", "Figure 1: a b c d", "a b c d", page=2, paragraphs=["p q r s", "zzz"]),
        {"kind": "figure", "number": "2", "caption_no_index": "e", "page": 4, "paragraphs": []},
        {"kind": "figure", "number": "9", "caption_no_index": "junk", "page": 1, "paragraphs": []},
    ]
    r = score_paper(gold, predicted)
    assert r["recall"] == pytest.approx(2 / 3)  # the unprinted figure 3 does not count
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["page_accuracy"] == pytest.approx(1 / 2)
    # caption F1: 1.0 and "e" vs "e f" = 2/3
    assert r["mean_caption_f1"] == pytest.approx((1 + 2 / 3) / 2)
    # gold paragraphs: 2 (figure 1) + 1 (table 1, not found) = 3; found 1
    assert r["mention_recall"] == pytest.approx(1 / 3)
    # predicted paragraphs of floats with gold mentions: 2, right 1
    assert r["mention_precision"] == pytest.approx(1 / 2)
    assert r["missed"] == ["table 1"]
    assert r["extra"] == ["figure 9"]
    pooled = pool([r, r])
    assert pooled["recall"] == pytest.approx(2 / 3)
    assert pooled["counts"]["gold"] == 6


def _plot_image(size=(300, 200), shift=0) -> Image.Image:
    img = Image.new("L", size, 255)
    d = ImageDraw.Draw(img)
    w, h = size
    d.line([(20, h - 20), (w - 10, h - 20)], fill=0, width=2)
    d.line([(20, 10), (20, h - 20)], fill=0, width=2)
    d.line([(20, h - 30), (w // 2, 40 + shift), (w - 20, h // 2)], fill=0, width=3)
    d.ellipse([(w // 2 - 15, h // 2 - 15), (w // 2 + 15, h // 2 + 15)], fill=90)
    return img


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_trim_margins_cuts_white_border():
    img = Image.new("L", (100, 80), 255)
    ImageDraw.Draw(img).rectangle([(30, 20), (59, 49)], fill=0)
    assert trim_margins(img).size == (30, 30)


def test_crop_similarity_accepts_same_graphic_with_margins(tmp_path):
    graphic = _plot_image()
    path = tmp_path / "g.png"
    graphic.save(path)
    # the crop: the same plot at another scale with extra white margin around it
    crop = Image.new("L", (500, 330), 255)
    crop.paste(graphic.resize((450, 300)), (25, 15))
    result = crop_similarity(_png(crop), path)
    assert result.similar, result


def test_crop_similarity_rejects_more_or_other(tmp_path):
    graphic = _plot_image()
    # the plot plus a caption-like text block below it: more than the graphic
    with_text = Image.new("L", (300, 260), 255)
    with_text.paste(graphic, (0, 0))
    d = ImageDraw.Draw(with_text)
    for y in range(210, 255, 9):
        d.line([(5, y), (295, y)], fill=0, width=3)
    assert not compare_images(with_text, graphic).similar
    # a different drawing of the same shape
    other = Image.new("L", (300, 200), 255)
    ImageDraw.Draw(other).rectangle([(100, 20), (280, 180)], fill=0)
    assert not compare_images(other, graphic).similar
    # a block of text lines with the same extent as the plot: the shape agrees, the content does not
    text_block = Image.new("L", (300, 200), 255)
    d = ImageDraw.Draw(text_block)
    for y in range(10, 182, 12):
        d.line([(19, y), (290, y)], fill=40, width=4)
    result = compare_images(text_block, graphic)
    assert not result.similar and "correlation" in result.reason
