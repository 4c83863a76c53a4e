"""Instruction records for the training tests, in the `instructions` schema (no shared files needed).

`synthetic_rows` draws distinct figures with PIL (bars, lines, dots) and writes a caption that says
what is drawn; `corpus_rows` makes rows from real papers' gold captions and their graphics files
(`../shared/corpus`), PDF graphics rendered with pymupdf. `write_instructions` stores rows as an
OUT folder that `datasets` and `scitune-train finetune --data OUT` read.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from scitune.schemas import INSTRUCTION_FEATURES, validate_row

COLORS = {"red": (220, 40, 40), "green": (40, 160, 60), "blue": (40, 70, 220), "black": (20, 20, 20),
          "orange": (240, 140, 20), "purple": (130, 50, 170)}
KINDS = ("bar chart", "line plot", "scatter plot")


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def draw(kind: str, color: str, n: int, size: int = 96) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(im)
    rgb = COLORS[color]
    xs = [int(8 + i * (size - 16) / max(1, n - 1)) for i in range(n)]
    ys = [int(size - 10 - (size - 24) * ((i * 37) % n + 1) / n) for i in range(n)]
    if kind == "bar chart":
        for x, y in zip(xs, ys):
            d.rectangle([x - 3, y, x + 3, size - 8], fill=rgb)
    elif kind == "line plot":
        d.line(list(zip(xs, ys)), fill=rgb, width=3)
    else:
        for x, y in zip(xs, ys):
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=rgb)
    d.line([(6, size - 6), (size - 4, size - 6)], fill=(0, 0, 0))
    d.line([(6, 4), (6, size - 6)], fill=(0, 0, 0))
    return png(im)


def row(rid: str, image: bytes, prompt: str, answer: str, task: str = "caption") -> dict:
    return {"id": f"{rid}/{task}", "figure_id": rid, "paper_id": rid.split("/")[0], "task": task,
            "images": [{"bytes": image, "path": None}],
            "messages": [{"role": "user", "content": f"<image>\n{prompt}"}, {"role": "assistant", "content": answer}],
            "template_id": "test", "template_version": "1", "license": "CC-BY-4.0"}


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    combos = [(k, c, m) for k in KINDS for c in COLORS for m in range(3, 9)]
    rng.shuffle(combos)
    for i, (kind, color, points) in enumerate(combos[:n]):
        caption = f"A {color} {kind} with {points} points."
        rows.append(row(f"synthetic/figure{i + 1}", draw(kind, color, points), "Describe the figure.", caption))
    return rows


def write_instructions(out: Path, rows: list[dict], shard_rows: int = 1000) -> Path:
    """Rows -> OUT/instructions/part-*.parquet with the schema's features metadata (+ a dataset card)."""
    folder = Path(out) / "instructions"
    folder.mkdir(parents=True, exist_ok=True)
    for r in rows:
        problems = validate_row(r, "instructions")
        assert not problems, (r["id"], problems)
    for k in range(0, len(rows), shard_rows):
        encoded = [INSTRUCTION_FEATURES.encode_example(r) for r in rows[k: k + shard_rows]]
        table = pa.Table.from_pylist(encoded, schema=INSTRUCTION_FEATURES.arrow_schema)
        pq.write_table(table, folder / f"part-{k // shard_rows:05d}.parquet")
    (Path(out) / "README.md").write_text(
        "---\nconfigs:\n- config_name: instructions\n  data_files: instructions/*.parquet\n---\n", encoding="utf-8")
    return Path(out)


def _render_graphic(path: Path, max_side: int) -> bytes | None:
    """The graphic as a PNG of at most `max_side` pixels; None when it is missing or unreadable."""
    try:
        return _render(path, max_side)
    except Exception:  # corpus files that were too large to copy are empty placeholders
        return None


def _render(path: Path, max_side: int) -> bytes | None:
    from PIL import Image

    if path.suffix.lower() == ".pdf":
        import pymupdf

        with pymupdf.open(path) as doc:
            page = doc[0]
            zoom = max_side / max(page.rect.width, page.rect.height)
            pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
            return pix.tobytes("png")
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        im = Image.open(path).convert("RGB")
        im.thumbnail((max_side, max_side))
        return png(im)
    return None


def corpus_rows(corpus: Path, papers: list[str], limit: int, max_side: int = 128,
                max_caption_chars: int = 400) -> list[dict]:
    """Rows from gold captions and the first graphic of each single-figure float of `papers`.

    Captions longer than `max_caption_chars` are cut at a sentence end (keeps the tiny test fast).
    """
    rows = []
    for name in papers:
        folder = next((p for p in (corpus / "latex" / name, corpus / "paired" / name) if p.is_dir()), None)
        if folder is None:
            continue
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        roots = [p for p in folder.iterdir() if p.is_dir()]
        main_dir = None
        for root in roots:
            if (root / gold["main_tex"]).is_file():
                main_dir = (root / gold["main_tex"]).parent
        if main_dir is None:
            continue
        for f in gold["floats"]:
            if f["kind"] != "figure" or not f.get("graphics") or f.get("stale_graphic"):
                continue
            image = _render_graphic(main_dir / f["graphics"][0], max_side)
            if image is None:
                continue
            caption = " ".join(f["caption"].split())
            if len(caption) > max_caption_chars:
                cut = caption[:max_caption_chars]
                caption = cut[: cut.rfind(". ") + 1] if ". " in cut else cut
            rows.append(row(f"{name}/figure{f['number']}", image, "Write the caption of this figure.", caption))
            if len(rows) == limit:
                return rows
    return rows
