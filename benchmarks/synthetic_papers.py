"""N synthetic papers from a seed: a PDF and its LaTeX source each, with figures, tables, captions, mentions.

    python benchmarks/synthetic_papers.py OUT_DIR -n 2000 --seed 0

Each paper `paperNNNNN` is written as `paperNNNNN.pdf` beside the folder `paperNNNNN/` (main.tex and its
PNG figures), so `extract` pairs them by stem. Layouts vary with the seed: letter or A4 pages, one or two
columns, 1 to 4 figures (vector plots drawn as paths, or raster images), 0 to 2 ruled tables with the
caption above, captions of 1 to 3 sentences, body paragraphs that mention the floats, a title page.
The same seed always gives the same bytes (no clock, no randomness outside `random.Random(seed)`), so two
runs of a benchmark read identical inputs. Used by benchmarks/scale.py; writing 2,000 papers takes a few
minutes on one core.
"""

from __future__ import annotations

import argparse
import io
import random
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw

PAGE_SIZES = {"letter": (612, 792), "a4": (595, 842)}
WORDS = (
    "response frequency sample model signal noise spectrum layer network density gradient error "
    "temperature pressure energy flux baseline method dataset accuracy variance trial sensor phase"
).split()
BODY = (
    "We study the behaviour of the system over a range of settings. Each measurement was repeated "
    "five times and averaged; the spread between repetitions stays below two percent. "
)


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _caption(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(5, 11)) for _ in range(rng.randint(1, 3)))


def _raster(rng: random.Random, size=(240, 160)) -> bytes:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 8)):
        x0, y0 = rng.randrange(size[0] - 40), rng.randrange(size[1] - 40)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x0, y0, x0 + rng.randint(20, 80), y0 + rng.randint(15, 60)), fill=color)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _plot_points(rng: random.Random, n: int = 21) -> list[float]:
    return [rng.random() for _ in range(n)]


def _draw_plot(page: pymupdf.Page, rect: pymupdf.Rect, ys: list[float]) -> None:
    shape = page.new_shape()
    x0, y0, x1, y1 = rect.x0 + 30, rect.y0 + 10, rect.x1 - 10, rect.y1 - 25
    shape.draw_line((x0, y1), (x1, y1))
    shape.draw_line((x0, y1), (x0, y0))
    pts = [(x0 + i * (x1 - x0) / (len(ys) - 1), y1 - (y1 - y0) * y) for i, y in enumerate(ys)]
    shape.draw_polyline(pts)
    shape.finish(color=(0, 0, 0.8), width=1, closePath=False)
    shape.commit()
    for i in range(5):
        x = x0 + i * (x1 - x0) / 4
        page.insert_text((x - 3, y1 + 12), str(i * 5), fontsize=7)
        page.insert_text((x0 - 22, y1 - i * (y1 - y0) / 4 + 3), f"{i * 0.25:.2f}", fontsize=7)


def _plot_png(ys: list[float], size=(300, 200)) -> bytes:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.line([(30, h - 25), (w - 10, h - 25)], fill="black")
    draw.line([(30, h - 25), (30, 10)], fill="black")
    pts = [(30 + i * (w - 40) / (len(ys) - 1), h - 25 - (h - 35) * y) for i, y in enumerate(ys)]
    draw.line(pts, fill=(0, 0, 204), width=2)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def paper(index: int, seed: int) -> tuple[bytes, dict[str, bytes]]:
    """The PDF bytes and the source files (relative path -> bytes) of one paper."""
    rng = random.Random(f"{seed}:{index}")
    size = rng.choice(list(PAGE_SIZES))
    width, height = PAGE_SIZES[size]
    two_columns = rng.random() < 0.4
    n_figures, n_tables = rng.randint(1, 4), rng.randint(0, 2)
    title = f"Synthetic paper {index}: " + _sentence(rng, 5)[:-1]
    figures = []
    for k in range(1, n_figures + 1):
        kind = "plot" if rng.random() < 0.6 else "raster"
        figures.append(
            {
                "n": k,
                "kind": kind,
                "ys": _plot_points(rng),
                "png": _raster(rng) if kind == "raster" else None,
                "caption": _caption(rng),
            }
        )
    tables = [
        {
            "n": k,
            "caption": _caption(rng),
            "rows": [[_sentence(rng, 1)[:-1], f"{rng.random():.3f}"] for _ in range(3)],
        }
        for k in range(1, n_tables + 1)
    ]

    doc = pymupdf.open()
    margin = 72 if size == "letter" else 64
    col_w = (width - 2 * margin - 20) / 2 if two_columns else width - 2 * margin
    page = doc.new_page(width=width, height=height)
    page.insert_textbox(pymupdf.Rect(margin, margin, width - margin, margin + 40), title, fontsize=15)
    page.insert_textbox(
        pymupdf.Rect(margin, margin + 50, width - margin, height - margin), BODY * 6, fontsize=10
    )
    for f in figures:
        page = doc.new_page(width=width, height=height)
        x0 = margin + (rng.random() < 0.5 and two_columns) * (col_w + 20)
        y = margin
        mention = f"Figure {f['n']} shows the {rng.choice(WORDS)} of the {rng.choice(WORDS)}. " + BODY
        page.insert_textbox(pymupdf.Rect(x0, y, x0 + col_w, y + 70), mention, fontsize=10)
        y += 80
        gw = min(col_w, 310)
        graphic = pymupdf.Rect(x0 + (col_w - gw) / 2, y, x0 + (col_w + gw) / 2, y + gw * 0.62)
        if f["kind"] == "plot":
            _draw_plot(page, graphic, f["ys"])
        else:
            page.insert_image(graphic, stream=f["png"])
        cap = f"Figure {f['n']}: {f['caption']}"
        page.insert_textbox(pymupdf.Rect(x0, graphic.y1 + 8, x0 + col_w, graphic.y1 + 60), cap, fontsize=9)
        page.insert_textbox(
            pymupdf.Rect(x0, graphic.y1 + 70, x0 + col_w, height - margin), BODY * 3, fontsize=10
        )
    for t in tables:
        page = doc.new_page(width=width, height=height)
        cap = f"Table {t['n']}: {t['caption']}"
        page.insert_textbox(pymupdf.Rect(margin, margin, width - margin, margin + 40), cap, fontsize=9)
        top = margin + 45
        for r, row in enumerate([("name", "value"), *t["rows"]]):
            for c, cell in enumerate(row):
                page.insert_text((margin + 80 + c * 140, top + 15 + r * 16), cell, fontsize=9)
        page.draw_line((margin + 70, top), (margin + 380, top))
        page.draw_line((margin + 70, top + 4 * 16 + 8), (margin + 380, top + 4 * 16 + 8))
        page.insert_textbox(
            pymupdf.Rect(margin, top + 110, width - margin, height - margin),
            f"Table {t['n']} lists the values. " + BODY * 2,
            fontsize=10,
        )
    pdf = doc.tobytes(garbage=0, deflate=True)
    doc.close()

    files: dict[str, bytes] = {}
    body = [f"\\title{{{title}}}\n\\maketitle\n", BODY * 6 + "\n"]
    for f in figures:
        name = f"fig{f['n']}.png"
        files[name] = f["png"] or _plot_png(f["ys"])
        body.append(f"Figure~\\ref{{fig:{f['n']}}} shows the result. {BODY}\n\n")
        body.append(
            f"\\begin{{figure}}[t]\\centering\\includegraphics[width=0.8\\linewidth]{{{name}}}"
            f"\\caption{{{f['caption']}}}\\label{{fig:{f['n']}}}\\end{{figure}}\n\n"
        )
    for t in tables:
        rows = " \\\\\n".join(f"{a} & {b}" for a, b in [("name", "value"), *t["rows"]])
        body.append(f"Table~\\ref{{tab:{t['n']}}} lists the values. {BODY}\n\n")
        body.append(
            f"\\begin{{table}}[t]\\caption{{{t['caption']}}}\\label{{tab:{t['n']}}}"
            f"\\begin{{tabular}}{{lr}}\\hline\n{rows}\\\\\\hline\\end{{tabular}}\\end{{table}}\n\n"
        )
    options = "twocolumn," if two_columns else ""
    paper_size = "letterpaper" if size == "letter" else "a4paper"
    files["main.tex"] = (
        f"\\documentclass[{options}{paper_size}]{{article}}\n\\usepackage{{graphicx}}\n"
        f"\\begin{{document}}\n{''.join(body)}\\end{{document}}\n"
    ).encode()
    return pdf, files


def write_papers(out: Path, n: int, seed: int = 0, start: int = 0) -> list[Path]:
    """Write papers start..n-1 into `out` (skipping those already there); returns the PDF paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pdfs = []
    for i in range(start, n):
        stem = out / f"paper{i:05d}"
        pdf_path = stem.with_suffix(".pdf")
        if not pdf_path.exists():
            pdf, files = paper(i, seed)
            for rel, data in files.items():
                (stem / rel).parent.mkdir(parents=True, exist_ok=True)
                (stem / rel).write_bytes(data)
            tmp = pdf_path.with_suffix(".pdf.tmp")
            tmp.write_bytes(pdf)
            tmp.rename(pdf_path)  # last: a half-written corpus is never taken for a complete one
        pdfs.append(pdf_path)
    return pdfs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    write_papers(args.out, args.n, args.seed)
    print(f"{args.n} papers (PDF + LaTeX source) in {args.out}")


if __name__ == "__main__":
    main()
