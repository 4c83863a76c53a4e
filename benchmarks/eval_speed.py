"""How fast evaluation runs on a CPU: caption metrics, and batched generation with the tiny model.

    python benchmarks/eval_speed.py [--captions 500] [--requests 48] [--repeat 3]

1. Caption metrics (`scitune.train.metrics.caption_scores`) on N synthetic caption pairs: the first call
   (which starts METEOR's Java process and loads its paraphrase table) and the median of later calls.
2. Generation with a tiny LLaVA built from the `tiny-cpu` config (untrained: speed only) on N ScienceQA-
   style requests with images, greedy, 16 new tokens, at batch sizes 1, 4 and 16: requests per second.

Writes benchmarks/results/eval_speed.{md,json}. Times are wall clock on this (possibly shared) machine.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORDS = (
    "the loss accuracy model training epoch curve rises falls over time per data set for of with a an "
    "and in on at plot bar chart line shows results compared baseline ours higher lower"
).split()


def caption_pairs(n: int, seed: int = 0) -> tuple[dict, dict]:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20))) + "."

    preds = {str(i): sentence() for i in range(n)}
    refs = {str(i): [sentence() for _ in range(rng.randint(1, 3))] for i in range(n)}
    return preds, refs


def bench_captions(n: int, repeat: int) -> dict:
    from scitune.train import metrics

    preds, refs = caption_pairs(n)
    start = time.perf_counter()
    metrics.caption_scores(preds, refs)
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        metrics.caption_scores(preds, refs)
        warm.append(time.perf_counter() - start)
    return {"n": n, "first_call_s": first, "warm_median_s": statistics.median(warm)}


def bench_generation(n: int, repeat: int, batch_sizes=(1, 4, 16)) -> dict:
    import torch
    from PIL import Image

    from scitune.train.config import load_config
    from scitune.train.generate import Decoding, Request, generate
    from scitune.train.model import build_model

    torch.manual_seed(0)
    model, processor = build_model(load_config("tiny-cpu").model, [" ".join(WORDS)] * 50)
    model.eval()
    requests = []
    for i in range(n):
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (40 * (i % 6), 80, 200)).save(buf, "PNG")
        question = "What color is the square?" + " Think about it." * (i % 5)
        requests.append(Request(str(i), f"<image>\n{question}\nA. red\nB. blue", buf.getvalue()))
    out = {}
    for bs in batch_sizes:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            list(
                generate(
                    model, processor, requests, Decoding(max_new_tokens=16, batch_size=bs), label=f"bs{bs}"
                )
            )
            times.append(time.perf_counter() - start)
        out[bs] = {"median_s": statistics.median(times), "requests_per_s": n / statistics.median(times)}
    return {"n": n, "threads": torch.get_num_threads(), "by_batch_size": out}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--captions", type=int, default=500)
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cap = bench_captions(args.captions, args.repeat)
    gen = bench_generation(args.requests, args.repeat)
    rows = "\n".join(
        f"| {bs} | {v['median_s']:.2f} | {v['requests_per_s']:.1f} |"
        for bs, v in gen["by_batch_size"].items()
    )
    report = (
        "# Evaluation speed (CPU, wall clock, shared machine)\n\n"
        f"Caption metrics on {cap['n']} pairs (PTB tokenizer, BLEU-4, METEOR, ROUGE-L, CIDEr, GLEU, ROUGE-L, "
        f"sacreBLEU): first call {cap['first_call_s']:.1f} s (starts METEOR's Java process), later calls "
        f"median {cap['warm_median_s']:.1f} s.\n\n"
        f"Greedy generation, tiny-cpu model (untrained), {gen['n']} requests with images, 16 new tokens, "
        f"{gen['threads']} torch threads:\n\n| batch size | median s | requests/s |\n|---|---|---|\n{rows}\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval_speed.md").write_text(report, encoding="utf-8")
    (RESULTS / "eval_speed.json").write_text(
        json.dumps({"captions": cap, "generation": gen}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
