"""OCR engines: words and their boxes from an image of (part of) a float.

    engine = get_engine("rapidocr")        # None when not installed; engine_problem() says why
    words = engine.read(rgb)               # [Word(text, (x0, y0, x1, y1) in 0-1 of the image)]

Two engines:

- `rapidocr` (default, the `rapidocr-onnxruntime` package: PP-OCRv4 detection and recognition as ONNX models
  inside its wheel, run by onnxruntime). It reads lines; with `return_word_box` it also gives one box per
  character (from the CTC decoding positions). Words are cut from the line at its spaces and, because the
  recogniser often drops the space between two words of small print ("Dailyflow(mm)"), also at blank gaps
  in the line's ink as wide as a word space (`WORD_GAP_EM`).
- `tesseract` (Debian's `tesseract-ocr`, run as a subprocess with TSV output): word boxes come from
  tesseract itself; page segmentation "sparse text" (psm 11) suits figures, whose labels are scattered.

Each engine names the resolution it reads best at (`dpi`): the PDF side renders the parts to OCR at that
resolution, not at the crop's dpi, and never beyond `MAX_OCR_PIXELS`.
"""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import statistics
import subprocess
import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image

Box = tuple[float, float, float, float]

ENGINES = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "rapidocr"
# Figure labels are set at 5-9 pt. PP-OCR's recogniser scales each line to 48 px high; text rendered at
# 300 dpi (a 7 pt label ~ 29 px) keeps strokes sharp without making detection slow. Tesseract's documented
# sweet spot is 300 dpi too (x-height >= 20 px works best).
ENGINE_DPI = {"rapidocr": 300, "tesseract": 300}
# An upper bound on pixels per OCR call (about 2,400 x 1,700): a full-page raster at 300 dpi would take
# seconds; above this the render resolution is lowered to fit.
MAX_OCR_PIXELS = 4_000_000
# A blank gap in a line's ink at least this many times the line's ink height wide is a word space: a
# typeset space is 0.25-0.33 em and the ink of a line is 0.7-1 em high (0.3-0.45 of it), while letters of
# one word, and digits beside a decimal point, stand 0.05-0.15 em apart (at most ~0.2 of the ink height).
WORD_GAP_EM = 0.3
# No cut from ink gaps next to these: "1.5", "f(x)", "10%" keep their narrow punctuation.
_NO_CUT_BEFORE = set(".,;:)]%'")
_NO_CUT_AFTER = set("([.-−")
# Lines the recogniser is less sure of than this are dropped (rapidocr's own default is 0.5; figure
# labels are short, and a short wrong word is worse than a missing one).
MIN_LINE_SCORE = 0.6
TESSERACT_MIN_CONF = 50  # tesseract word confidence (0-100) below which a word is noise
TESSERACT_TIMEOUT_S = 60


@dataclass
class Word:
    text: str
    box: Box  # x0, y0, x1, y1 as fractions (0-1) of the image given to the engine


# PP-OCR's recogniser also reads Chinese: a dash or minus in small print comes out as the character "one"
_CJK_DASH = str.maketrans({"\u4e00": "-"})
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _clean(text: str) -> str:
    """A recognised line, NFKC-normalised (full-width brackets), its "一" read as a dash when the line is
    not Chinese."""
    text = text.translate(_CJK_DASH) if len(_CJK.findall(text)) <= text.count("\u4e00") else text
    return unicodedata.normalize("NFKC", text)


def _norm_box(points, w: int, h: int) -> Box:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return (
        max(0.0, min(xs) / w),
        max(0.0, min(ys) / h),
        min(1.0, max(xs) / w),
        min(1.0, max(ys) / h),
    )


def ink_gaps(grey: np.ndarray, box_px: tuple[int, int, int, int]) -> list[tuple[float, float]]:
    """Blank column runs inside one text line, as (x0, x1) in pixels: the spaces between its words.

    The line's pixels are split into ink and paper halfway between the darkest and the lightest pixel;
    a run of ink-free columns at least `WORD_GAP_EM` times the line's ink height wide is a word space
    (letters of one word sit closer than that)."""
    x0, y0, x1, y1 = box_px
    crop = grey[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    if crop.size == 0 or crop.shape[1] < 4:
        return []
    lo, hi = float(crop.min()), float(crop.max())
    if hi - lo < 40:  # no contrast: nothing to measure
        return []
    ink = crop < (lo + hi) / 2
    rows = np.flatnonzero(ink.any(axis=1))
    cols = ink.any(axis=0)
    if rows.size == 0:
        return []
    min_gap = max(2.0, WORD_GAP_EM * (rows[-1] - rows[0] + 1))
    gaps, run_start = [], None
    inked = np.flatnonzero(cols)
    first, last = inked[0], inked[-1]
    for x in range(first, last + 1):
        if not cols[x]:
            run_start = x if run_start is None else run_start
        elif run_start is not None:
            if x - run_start >= min_gap:
                gaps.append((float(x0 + run_start), float(x0 + x)))
            run_start = None
    return gaps


def split_line(
    text: str, char_boxes: list[Box] | None, line_box: Box, gaps: list[tuple[float, float]] = ()
) -> list[Word]:
    """Words of one recognised line: cut at its spaces, and at blank gaps in the ink (`gaps`, x ranges in
    the same units as the boxes) that lie between two neighbouring characters.

    `char_boxes` (one per non-space character, left to right) may be missing or not match the text; then
    the words are cut at spaces only and get boxes proportional to their character positions."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return []
    if not char_boxes or len(char_boxes) != len(chars):
        words, x0, x1 = [], line_box[0], line_box[2]
        step = (x1 - x0) / max(len(text), 1)
        for m in re.finditer(r"\S+", text):
            a = x0 + m.start() * step
            words.append(Word(m.group(0), (a, line_box[1], x0 + m.end() * step, line_box[3])))
        return words
    centres = [(b[0] + b[2]) / 2 for b in char_boxes]
    words: list[Word] = []
    current: list[int] = []

    def close() -> None:
        if current:
            boxes = [char_boxes[i] for i in current]
            words.append(
                Word(
                    "".join(chars[i] for i in current),
                    (min(b[0] for b in boxes), line_box[1], max(b[2] for b in boxes), line_box[3]),
                )
            )
            current.clear()

    k = 0  # index into chars
    space_before = False
    for ch in text:
        if ch.isspace():
            space_before = True
            continue
        gap_break = (
            bool(current)
            and ch not in _NO_CUT_BEFORE
            and chars[current[-1]] not in _NO_CUT_AFTER
            and any(centres[current[-1]] < (g0 + g1) / 2 < centres[k] for g0, g1 in gaps)
        )
        if space_before or gap_break:
            close()
        current.append(k)
        space_before = False
        k += 1
    close()
    return words


class RapidOcrEngine:
    name = "rapidocr"
    dpi = ENGINE_DPI["rapidocr"]

    def __init__(self) -> None:
        # imported here: loading onnxruntime and the models costs ~0.5 s, paid only where OCR runs
        from rapidocr_onnxruntime import RapidOCR

        # one intra-op thread: documents already run in parallel, one per worker process
        self._ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(self, rgb: np.ndarray) -> list[Word]:
        h, w = rgb.shape[:2]
        # no angle classifier: figure labels are upright or turned 90 degrees, never upside down
        result, _ = self._ocr(rgb, use_cls=False, return_word_box=True, text_score=MIN_LINE_SCORE)
        grey = rgb.mean(axis=2)
        words: list[Word] = []
        for entry in result or []:
            # entry: line box (4 points), text, score, then per-character boxes, characters, scores
            points, text = entry[0], _clean(str(entry[1]))
            line = _norm_box(points, w, h)
            char_boxes, gaps = None, []
            if len(entry) >= 5 and entry[3] and len(entry[3]) == len(entry[4]):
                text = _clean("".join(entry[4]))
                char_boxes = [_norm_box(b, w, h) for c, b in zip(entry[4], entry[3]) if not c.isspace()]
            px = (int(line[0] * w), int(line[1] * h), int(line[2] * w), int(line[3] * h))
            if px[2] - px[0] > px[3] - px[1]:  # horizontal lines only; a rotated label keeps its spaces
                gaps = [(a / w, b / w) for a, b in ink_gaps(grey, px)]
            words += split_line(text, char_boxes, line, gaps)
        return sort_words(words)


class TesseractEngine:
    name = "tesseract"
    dpi = ENGINE_DPI["tesseract"]

    def __init__(self) -> None:
        self._exe = shutil.which("tesseract")
        if not self._exe:
            raise FileNotFoundError("tesseract")

    def read(self, rgb: np.ndarray) -> list[Word]:

        h, w = rgb.shape[:2]
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        proc = subprocess.run(
            [self._exe, "stdin", "stdout", "--dpi", str(self.dpi), "--psm", "11", "tsv"],
            input=buf.getvalue(),
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_S,
            check=True,
        )
        words = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
                continue
            left, top, width, height, conf = (float(c) for c in cols[6:11])
            if conf < TESSERACT_MIN_CONF:
                continue
            box = (left / w, top / h, min(1.0, (left + width) / w), min(1.0, (top + height) / h))
            words.append(Word(cols[11].strip(), box))
        return sort_words(words)


def sort_words(words: list[Word]) -> list[Word]:
    """Reading order: rows top-down (words whose centres are within half a line height share a row), then
    left to right."""
    if not words:
        return words
    heights = sorted(w.box[3] - w.box[1] for w in words)
    tol = max(heights[len(heights) // 2] / 2, 1e-3)
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        cy = (word.box[1] + word.box[3]) / 2
        if rows and abs(cy - statistics.fmean((x.box[1] + x.box[3]) / 2 for x in rows[-1])) <= tol:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [w for row in rows for w in sorted(row, key=lambda w: w.box[0])]


_ENGINES: dict[str, object] = {}
_PROBLEMS: dict[str, str] = {}


def engine_problem(name: str) -> str | None:
    """Why engine `name` cannot run here (and how to fix it), or None when it can."""
    if name in _PROBLEMS:
        return _PROBLEMS[name]
    if name == "rapidocr":
        try:
            if importlib.util.find_spec("rapidocr_onnxruntime") is None:
                raise ImportError
        except (ImportError, ValueError):
            return "rapidocr is not installed: `pip install rapidocr-onnxruntime` (a scitune dependency)"
        return None
    if name == "tesseract":
        if not shutil.which("tesseract"):
            return "tesseract is not installed: `apt-get install tesseract-ocr` (or `make system-deps`)"
        return None
    return f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}"


def get_engine(name: str = DEFAULT_ENGINE):
    """The engine `name`, built once per process; None when it cannot run (see `engine_problem`)."""
    if name in _ENGINES:
        return _ENGINES[name]
    if engine_problem(name):
        return None
    try:
        engine = RapidOcrEngine() if name == "rapidocr" else TesseractEngine()
    except Exception as e:  # noqa: BLE001 - a broken install means no OCR, said once, not a crash
        _PROBLEMS[name] = f"{name} could not start ({type(e).__name__}: {e})"
        return None
    _ENGINES[name] = engine
    return engine
