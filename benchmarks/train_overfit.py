"""Can the tiny model learn real captions? Overfit 16 corpus figures and read the captions back.

    python benchmarks/train_overfit.py [--corpus ../shared/corpus] [--data OUT] [--set instruct.max_steps=300]

1. Instruction records from real papers: the gold captions of `../shared/corpus/latex/*` figures with
   their graphics files (PNG read with PIL, PDF rendered with pymupdf), in the `instructions`
   schema. `--data OUT` takes them from the `caption` task of an extract output instead (the first
   16 rows of `OUT/instructions`, made by `scitune-curate extract ... --instructions`).
2. `scitune-train finetune tiny-cpu` on those 16 records (the preset: 300 steps, batch 8).
3. The final training loss, and greedy generation for every record: how many captions come back
   exactly.

Writes benchmarks/results/train_overfit.{md,json}. The acceptance bar: loss < 0.05 and at least one
caption reproduced exactly. Wall-clock times are from a possibly shared machine.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CORPUS = ROOT.parent / "shared" / "corpus"
PAPERS = ["fluxcal_psa64", "period_gap_kinematics", "ophiuchus_stream", "effect_sizes_compositional"]


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def render_graphic(path: Path, max_side: int) -> bytes | None:
    """A graphics file as a PNG of at most `max_side` pixels; None when missing or unreadable."""
    from PIL import Image

    try:
        if path.suffix.lower() == ".pdf":
            import pymupdf

            with pymupdf.open(path) as doc:
                page = doc[0]
                zoom = max_side / max(page.rect.width, page.rect.height)
                return page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png")
        if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
            im = Image.open(path).convert("RGB")
            im.thumbnail((max_side, max_side))
            return _png(im)
    except Exception:  # files too large for the corpus snapshot are empty placeholders
        return None
    return None


def corpus_rows(
    corpus: Path, papers: list[str], limit: int = 16, max_side: int = 128, max_caption_chars: int = 400
) -> list[dict]:
    """`instructions` rows from gold captions and the first graphic of each figure of `papers`.

    Captions longer than `max_caption_chars` are cut at a sentence end (keeps the run short).
    """
    rows = []
    for name in papers:
        folder = corpus / "latex" / name
        if not (folder / "gold.json").is_file():
            continue
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        mains = [p / gold["main_tex"] for p in folder.iterdir() if (p / gold["main_tex"]).is_file()]
        main = mains[0] if mains else None
        if main is None:
            continue
        for f in gold["floats"]:
            if f["kind"] != "figure" or not f.get("graphics") or f.get("stale_graphic"):
                continue
            image = render_graphic(main.parent / f["graphics"][0], max_side)
            if image is None:
                continue
            caption = " ".join(f["caption"].split())
            if len(caption) > max_caption_chars:
                cut = caption[:max_caption_chars]
                caption = cut[: cut.rfind(". ") + 1] if ". " in cut else cut
            fid = f"{name}/figure{f['number']}"
            rows.append(
                {
                    "id": f"{fid}/caption",
                    "figure_id": fid,
                    "paper_id": name,
                    "task": "caption",
                    "images": [{"bytes": image, "path": None}],
                    "messages": [
                        {
                            "role": "user",
                            "content": [
                                {"type": "image", "text": None},
                                {"type": "text", "text": "Write the caption of this figure."},
                            ],
                        },
                        {"role": "assistant", "content": [{"type": "text", "text": caption}]},
                    ],
                    "template_id": "overfit",
                    "template_version": "1",
                    "license": "see corpus README",
                }
            )
            if len(rows) == limit:
                return rows
    return rows


def extract_rows(out: Path, limit: int = 16) -> list[dict]:
    """The first `limit` `caption` instructions of an extract output (images as PNG bytes)."""
    import pyarrow.parquet as pq

    rows = []
    for shard in sorted((out / "instructions").glob("*.parquet")):
        for r in pq.read_table(shard).to_pylist():
            if r["task"] == "caption":
                rows.append(r)
                if len(rows) == limit:
                    return rows
    return rows


def write_rows(out: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scitune.schemas import INSTRUCTION_FEATURES, validate_row

    for r in rows:
        assert not validate_row(r, "instructions"), (r["id"], validate_row(r, "instructions"))
    (out / "instructions").mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(
        [INSTRUCTION_FEATURES.encode_example(r) for r in rows], schema=INSTRUCTION_FEATURES.arrow_schema
    )
    pq.write_table(table, out / "instructions" / "part-00000.parquet")
    return out


def greedy_matches(model_dir: Path, data: Path, max_new_tokens: int = 256) -> list[dict]:
    """Greedy answers to each record's prompt, compared with its answer."""
    import torch

    from scitune.schemas import content_text
    from scitune.train.data import _load_image, open_rows
    from scitune.train.model import load_model

    model, processor = load_model(model_dir, dtype=torch.float32)
    rows = open_rows(str(data))
    out = []
    for i in range(len(rows)):
        r = rows[i]
        user = [{"role": "user", "content": content_text(r["messages"][0]["content"])}]
        prompt = processor.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        inputs = processor(text=prompt, images=[_load_image(im) for im in r["images"]], return_tensors="pt")
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        text = processor.tokenizer.decode(ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        out.append(
            {"id": r["id"], "exact": text == content_text(r["messages"][1]["content"]), "generated": text}
        )
    return out


def run(corpus: Path, data: Path | None, work: Path, overrides: list[str]) -> dict:
    from scitune.train.config import load_config
    from scitune.train.loop import finetune

    if data is None:
        rows = corpus_rows(corpus, PAPERS)
    else:
        rows = extract_rows(data)
    if len(rows) < 16:
        raise SystemExit(f"only {len(rows)} usable records (need 16)")
    data = write_rows(work / "data", rows)
    cfg = load_config(
        "tiny-cpu", [f"data.path={data}", f"train.output={work / 'run'}", "train.progress=false", *overrides]
    )
    t0 = time.perf_counter()
    model_dir = finetune(cfg)
    train_s = time.perf_counter() - t0
    metrics = [json.loads(x) for x in (work / "run" / "instruct" / "metrics.jsonl").read_text().splitlines()]
    matches = greedy_matches(model_dir, data)
    return {
        "records": len(matches),
        "final_loss": metrics[-1]["loss"],
        "steps": metrics[-1]["step"],
        "train_seconds": round(train_s, 1),
        "tokens_per_s_last": metrics[-1]["tokens_per_s"],
        "exact_captions": sum(m["exact"] for m in matches),
        "overrides": overrides,
        "per_record": matches,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--data", type=Path, help="an instructions folder to train on instead of corpus records")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], help="config override (repeatable)"
    )
    p.add_argument("--json", type=Path, default=RESULTS / "train_overfit.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.corpus, args.data, Path(tmp), args.overrides)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    md = (
        f"# Tiny model overfitting {result['records']} corpus captions\n\n"
        f"`scitune-train finetune tiny-cpu` ({result['steps']} steps, {result['train_seconds']} s wall "
        f"clock incl. setup, shared CPU): final loss **{result['final_loss']:.4f}**; greedy generation "
        f"reproduces **{result['exact_captions']} of {result['records']}** captions exactly.\n\n"
        "| record | exact | generated (start) |\n|---|---|---|\n"
        + "".join(
            f"| {m['id']} | {'yes' if m['exact'] else 'no'} | {m['generated'][:70]!r} |\n"
            for m in result["per_record"]
        )
    )
    args.json.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
