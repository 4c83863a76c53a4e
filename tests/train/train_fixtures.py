"""Instruction records for the training tests, in the `instructions` schema (no shared files needed).

`synthetic_rows` draws distinct figures with PIL (bars, lines, dots) and writes a caption that says
what is drawn; `write_instructions` stores rows as an OUT folder that `datasets` and
`scitune-train finetune --data OUT` read. (Rows from real corpus papers: benchmarks/train_overfit.py.)
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from scitune.schemas import INSTRUCTION_FEATURES, content_parts, validate_row

COLORS = {
    "red": (220, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 70, 220),
    "black": (20, 20, 20),
    "orange": (240, 140, 20),
    "purple": (130, 50, 170),
}
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
    """One row as schema version 1 wrote it (string content, `<image>` in the user turn): what the
    trainer's reader still accepts, and what `as_stored` turns into the current schema."""
    return {
        "id": f"{rid}/{task}",
        "figure_id": rid,
        "paper_id": rid.split("/")[0],
        "task": task,
        "images": [{"bytes": image, "path": None}],
        "messages": [
            {"role": "user", "content": f"<image>\n{prompt}"},
            {"role": "assistant", "content": answer},
        ],
        "template_id": "test",
        "template_version": "1",
        "license": "CC-BY-4.0",
    }


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    combos = [(k, c, m) for k in KINDS for c in COLORS for m in range(3, 9)]
    rng.shuffle(combos)
    for i, (kind, color, points) in enumerate(combos[:n]):
        caption = f"A {color} {kind} with {points} points."
        image = draw(kind, color, points)
        rows.append(row(f"synthetic/figure{i + 1}", image, "Describe the figure.", caption))
    return rows


def as_stored(r: dict) -> dict:
    """A row in the current schema (version 2: content parts, the image part where `<image>` stood)."""
    messages = [
        {
            "role": m["role"],
            "content": content_parts(m["content"]) if isinstance(m["content"], str) else m["content"],
        }
        for m in r["messages"]
    ]
    return {**r, "messages": messages}


def write_instructions(out: Path, rows: list[dict], shard_rows: int = 1000) -> Path:
    """Rows -> OUT/instructions/part-*.parquet with the schema's features metadata (+ a dataset card)."""
    folder = Path(out) / "instructions"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [as_stored(r) for r in rows]
    for r in rows:
        problems = validate_row(r, "instructions")
        assert not problems, (r["id"], problems)
    for k in range(0, len(rows), shard_rows):
        encoded = [INSTRUCTION_FEATURES.encode_example(r) for r in rows[k : k + shard_rows]]
        table = pa.Table.from_pylist(encoded, schema=INSTRUCTION_FEATURES.arrow_schema)
        pq.write_table(table, folder / f"part-{k // shard_rows:05d}.parquet")
    (Path(out) / "README.md").write_text(
        "---\nconfigs:\n- config_name: instructions\n  data_files: instructions/*.parquet\n---\n",
        encoding="utf-8",
    )
    return Path(out)
