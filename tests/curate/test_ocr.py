"""OCR engines and the `--ocr` modes (scitune.curate.ocr, scitune.curate.pdf.render.region_words)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from scitune.curate import ocr as ocr_module
from scitune.curate.ocr import Word, engine_problem, get_engine, ink_gaps, sort_words, split_line
from scitune.curate.pdf import render as render_module
from scitune.curate.pdf.layout import read_page
from scitune.curate.pdf.render import region_words


def _font(size: int):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        import matplotlib

        return ImageFont.truetype(str(matplotlib.get_data_path()) + "/fonts/ttf/DejaVuSans.ttf", size)


def text_image(lines: list[tuple[str, tuple[int, int]]], size=(700, 260), font_size=34) -> np.ndarray:
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    for text, xy in lines:
        d.text(xy, text, fill="black", font=_font(font_size))
    return np.asarray(img)


def test_split_line_cuts_at_spaces_and_at_ink_gaps():
    # "Dailyflow(mm)" as a recogniser prints it, with one box per character and a word space after "y"
    text = "Dailyflow(mm)"
    boxes, x = [], 0.0
    for i, _ in enumerate(text):
        boxes.append((x, 0.1, x + 0.05, 0.2))
        x += 0.06 + (0.06 if i == 4 else 0.0)
    gaps = [(boxes[4][2] + 0.005, boxes[5][0] - 0.005)]
    words = split_line(text, boxes, (0.0, 0.1, x, 0.2), gaps)
    assert [w.text for w in words] == ["Daily", "flow(mm)"]
    assert words[0].box[2] <= words[1].box[0]
    # no gap, no cut; a space in the text always cuts; narrow punctuation never starts a new word
    assert [w.text for w in split_line(text, boxes, (0, 0.1, x, 0.2), [])] == ["Dailyflow(mm)"]
    assert [w.text for w in split_line("1.5 a", None, (0, 0, 1, 0.1))] == ["1.5", "a"]
    dot_gap = [(boxes[0][2], boxes[1][0])]
    assert [w.text for w in split_line("1.5", boxes[:3], (0, 0.1, 0.2, 0.2), dot_gap)] == ["1.5"]


def test_ink_gaps_find_word_spaces_not_letter_spacing():
    grey = text_image([("Daily flow", (10, 20))], size=(400, 80)).mean(axis=2)
    gaps = ink_gaps(grey, (0, 0, 400, 80))
    assert len(gaps) == 1  # between the words, none between letters
    assert 60 < gaps[0][0] < 160


def test_sort_words_reads_rows_top_down_then_left_right():
    words = [
        Word("c", (0.5, 0.5, 0.6, 0.55)),
        Word("b", (0.4, 0.1, 0.5, 0.15)),
        Word("a", (0.1, 0.11, 0.2, 0.16)),
    ]
    assert [w.text for w in sort_words(words)] == ["a", "b", "c"]


def test_unknown_or_missing_engines_say_what_to_do(monkeypatch):
    assert "choose one of" in engine_problem("nope")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "apt-get install tesseract-ocr" in engine_problem("tesseract")
    assert get_engine("tesseract") is None or "tesseract" in ocr_module._ENGINES


def test_rapidocr_reads_words_with_boxes():
    engine = get_engine("rapidocr")
    assert engine is not None, engine_problem("rapidocr")
    words = engine.read(text_image([("Daily flow (mm)", (20, 30)), ("Time 2.5 s", (20, 150))]))
    texts = [w.text.lower() for w in words]
    assert {"daily", "flow", "time", "2.5"} <= set(texts), texts
    assert texts.index("daily") < texts.index("flow") < texts.index("time")  # reading order
    for w in words:
        x0, y0, x1, y1 = w.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    daily = words[texts.index("daily")]
    assert daily.box[0] < 0.2 and daily.box[3] < 0.5  # top left of the image


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract-ocr not installed")
def test_tesseract_reads_words_with_boxes():
    words = get_engine("tesseract").read(text_image([("Daily flow", (20, 30))]))
    assert [w.text for w in words][:2] == ["Daily", "flow"]
    assert all(0 <= v <= 1 for w in words for v in w.box)


def _mixed_page() -> pymupdf.Document:
    """A page with a raster plot whose text is pixels only, and vector labels typeset around it."""
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    buf = io.BytesIO()
    Image.fromarray(text_image([("SIGNAL", (30, 60)), ("42", (400, 160))])).save(buf, format="PNG")
    page.insert_image(pymupdf.Rect(50, 50, 330, 154), stream=buf.getvalue())
    page.insert_text((60, 175), "Time (s)", fontsize=9)
    page.insert_text((55, 62), "(a)", fontsize=8)  # a panel label typeset over the raster
    return doc


def test_auto_reads_the_text_layer_and_ocrs_raster_parts_without_text():
    doc = _mixed_page()
    page = doc[0]
    text = read_page(page)
    rect = (40.0, 40.0, 340.0, 185.0)
    images = [tuple(i["bbox"]) for i in page.get_image_info()]
    found = region_words(page, text, rect, images, "auto")
    assert found.source == "mixed"
    assert {"Time", "(s)", "(a)"} <= set(found.words)  # text layer
    assert "SIGNAL" in found.words and "42" in found.words  # OCR of the raster part
    assert found.words.count("(a)") == 1  # read once, from the text layer
    assert len(found.boxes) == len(found.words)
    sig = found.boxes[found.words.index("SIGNAL")]
    assert sig[0] < 0.4 and sig[1] < 0.4  # top left of the figure
    off = region_words(page, text, rect, images, "off")
    assert off.source == "text_layer" and "SIGNAL" not in off.words
    always = region_words(page, text, rect, images, "always")
    assert always.source == "ocr" and "SIGNAL" in always.words


def test_a_raster_with_its_own_text_layer_is_not_ocred(monkeypatch):
    doc = _mixed_page()
    page = doc[0]
    page.insert_text((80, 100), "Velocity profile", fontsize=9)  # words over the raster
    calls = []
    monkeypatch.setattr(render_module, "ocr_clip", lambda *a: calls.append(a) or [])
    found = region_words(page, read_page(page), (40.0, 40.0, 340.0, 185.0), [(50, 50, 330, 154)], "auto")
    assert calls == [] and found.source == "text_layer"


def test_a_missing_engine_keeps_the_text_layer(monkeypatch):
    doc = _mixed_page()
    page = doc[0]
    monkeypatch.setattr(render_module, "get_engine", lambda name: None)
    found = region_words(page, read_page(page), (40.0, 40.0, 340.0, 185.0), [(50, 50, 330, 154)], "auto")
    assert found.source == "text_layer" and "Time" in found.words
    assert found.ocr_failed


def _cli(*args: str, env=None):
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_cli_options_and_a_missing_engine_said_once(tmp_path):
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "pdf"))
    from pdfdraw import two_column_paper

    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(two_column_paper().pdf)
    helped = _cli("extract", "--help", env={"COLUMNS": "200"})
    assert "--ocr-engine" in helped.stdout and "always" in helped.stdout
    assert "the  extra" not in helped.stdout  # the old help lost "[ocr]" to the formatter
    assert _cli("extract", str(pdf), "-o", str(tmp_path / "bad"), "--ocr", "maybe").returncode != 0
    # tesseract hidden from PATH: the run finishes, reads the text layer, and says so once
    run = _cli(
        "extract", str(pdf), "-o", str(tmp_path / "out"), "--ocr-engine", "tesseract", "--no-progress",
        env={"PATH": os.path.dirname(sys.executable)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("tesseract is not installed") == 1
