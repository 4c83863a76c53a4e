"""Train the figure-type model (curate/figure_types/model.npz) and score it honestly.

    python benchmarks/figure_types.py                  # train, report, write the model
    python benchmarks/figure_types.py --no-write       # train and report only
    python benchmarks/figure_types.py --per-class 60 --seed 0

Data:
- figures rendered from code (`benchmarks/synthetic_figures.py`, `--per-class` of each class, from
  `--seed`), read by the same signal functions that curation uses (PDF drawings, text layer, pixels);
- the corpus figures with a gold `figure_type` (unsure labels skipped) matched by the PDF path
  (`extract_pdf` on corpus/paired, matched by number), weighted `CORPUS_WEIGHT` each.

Model: standardised features -> one hidden ReLU layer (`HIDDEN`) -> softmax, trained full-batch with Adam
and weight decay, classes balanced; numpy only, so curation runs it without torch.

Scores (benchmarks/results/figure_types.json, and printed):
- leave-one-paper-out: for each corpus paper, a model trained on the synthetic figures and the OTHER papers
  classifies that paper's figures through `classify` (caption votes included): pooled accuracy,
  macro-F1 over classes with >= 5 examples, the per-class table and the confusion counts;
- synthetic only: the model trained without any corpus figure, on all corpus figures (papers never seen);
- the shipped model (trained on everything) is NOT scored on the corpus: it has seen those figures.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"
HIDDEN = 48
EPOCHS = 600
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-3
CORPUS_WEIGHT = 3.0  # a real figure counts as three drawn ones: it is what the model is for
PRIOR_SMOOTHING = 1.0  # add-one: a class never seen in papers keeps a small prior
# 0 = no prior (uniform). The corpus's class mix is not the mix of papers at large (it has no photos or
# screenshots at all: a photo was read as a diagram under the full prior), so the shipped model uses none.
PRIOR_POWER = 0.0
MIN_CLASS_EXAMPLES = 5  # macro-F1 is taken over classes with at least this many corpus examples


def _signals_of_pdf(pdf_bytes: bytes) -> dict:
    import pymupdf

    from scitune.curate.figure_types.signals import image_signals, pdf_signals
    from scitune.curate.pdf.layout import read_page

    doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    page = doc[0]
    rect = tuple(page.rect)
    rows = read_page(page).rows
    images = [tuple(i["bbox"]) for i in page.get_image_info()]
    signals = pdf_signals(page.get_cdrawings(), rows, images, rect)
    signals.update(image_signals(page.get_pixmap(dpi=150, alpha=False).tobytes("png")))
    doc.close()
    return signals


def synthetic_samples(per_class: int, seed: int) -> tuple[list[dict], list[str]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_figures import GENERATORS, synthetic_figure

    cache = RESULTS / f"figure_types_synthetic_pdfs_{per_class}_{seed}.pkl"
    if cache.exists():  # the drawn PDFs are kept; their signals are read again (the code may change)
        pdfs = pickle.loads(cache.read_bytes())
    else:
        rng = np.random.default_rng(seed)
        pdfs = [(cls, synthetic_figure(cls, rng)) for cls in GENERATORS for _ in range(per_class)]
        RESULTS.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(pdfs))
    t = time.perf_counter()
    X = [_signals_of_pdf(pdf) for _, pdf in pdfs]
    print(f"  signals of {len(pdfs)} synthetic figures read in {time.perf_counter() - t:.0f} s", flush=True)
    return X, [cls for cls, _ in pdfs]


def corpus_samples() -> list[dict]:
    """One record per gold figure found by the PDF side: signals, caption, mentions, gold type, paper."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.gold import load_gold, match_floats, printed_floats
    from scitune.curate.pdf.extract import extract_pdf

    cache = RESULTS / "figure_types_corpus.pkl"
    if cache.exists() and cache.stat().st_mtime > max(
        p.stat().st_mtime for p in (ROOT / "curate").rglob("*.py")
    ):
        return pickle.loads(cache.read_bytes())
    out = []
    for gold_path in sorted(CORPUS.glob("paired/*/gold.json")):
        gold = load_gold(gold_path)
        result = extract_pdf(gold_path.parent / gold["pdf"], ocr="off")
        for g, p in match_floats(printed_floats(gold), result.floats):
            if g["kind"] != "figure" or not g.get("figure_type") or g.get("figure_type_unsure"):
                continue
            out.append(
                {
                    "paper": gold["paper"],
                    "number": g["number"],
                    "gold": g["figure_type"],
                    "signals": p.type_signals,
                    "caption": p.caption_no_index,
                    "mentions": p.mentions,
                }
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(out))
    return out


def class_prior(records: list[dict], classes: list[str]) -> np.ndarray:
    """How often each class occurs among the labelled paper figures (add-one smoothed): the network is
    trained on balanced classes, so its outputs are multiplied by this prior to become posteriors."""
    counts = Counter(r["gold"] for r in records)
    prior = np.array([counts[c] + PRIOR_SMOOTHING for c in classes], dtype=np.float64) ** PRIOR_POWER
    return prior / prior.sum()


def train(X: np.ndarray, y: np.ndarray, w: np.ndarray, classes: list[str], seed: int, prior=None) -> dict:
    from scitune.curate.figure_types.signals import FEATURES

    rng = np.random.default_rng(seed)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-3
    Z = (X - mean) / std
    k = len(classes)
    Y = np.eye(k)[y]
    counts = np.bincount(y, weights=w, minlength=k)
    sw = w / np.maximum(counts[y], 1e-6) * (w.sum() / k)  # balanced: every class weighs the same
    sw = sw / sw.sum()
    params = {
        "w1": rng.normal(0, np.sqrt(2 / Z.shape[1]), (Z.shape[1], HIDDEN)),
        "b1": np.zeros(HIDDEN),
        "w2": rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, k)),
        "b2": np.zeros(k),
    }
    m = {n: np.zeros_like(v) for n, v in params.items()}
    v = {n: np.zeros_like(v) for n, v in params.items()}
    for step in range(1, EPOCHS + 1):
        h_pre = Z @ params["w1"] + params["b1"]
        h = np.maximum(h_pre, 0)
        logits = h @ params["w2"] + params["b2"]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        d_logits = (p - Y) * sw[:, None]
        grads = {"w2": h.T @ d_logits, "b2": d_logits.sum(axis=0)}
        d_h = d_logits @ params["w2"].T * (h_pre > 0)
        grads["w1"], grads["b1"] = Z.T @ d_h, d_h.sum(axis=0)
        for n in params:
            g = grads[n] + (WEIGHT_DECAY * params[n] if n.startswith("w") else 0)
            m[n] = 0.9 * m[n] + 0.1 * g
            v[n] = 0.999 * v[n] + 0.001 * g * g
            params[n] -= LEARNING_RATE * (m[n] / (1 - 0.9**step)) / (np.sqrt(v[n] / (1 - 0.999**step)) + 1e-8)
    return {
        **{n: a.astype(np.float32) for n, a in params.items()},
        "mean": mean.astype(np.float32),
        "std": std.astype(np.float32),
        "classes": np.array(classes),
        "features": np.array(FEATURES),
        "prior": (prior if prior is not None else np.full(k, 1.0 / k)).astype(np.float32),
    }


def _dataset(synthetic, corpus_records, classes):
    from scitune.curate.figure_types.signals import vector

    X = [vector(s) for s in synthetic[0]] + [vector(r["signals"]) for r in corpus_records]
    y = [classes.index(c) for c in synthetic[1]] + [classes.index(r["gold"]) for r in corpus_records]
    w = [1.0] * len(synthetic[1]) + [CORPUS_WEIGHT] * len(corpus_records)
    return np.array(X, dtype=np.float64), np.array(y), np.array(w)


def scores(pairs: list[tuple[str, str]]) -> dict:
    gold_counts = Counter(g for g, _ in pairs)
    per_class = {}
    for cls in sorted(gold_counts):
        tp = sum(1 for g, p in pairs if g == cls and p == cls)
        fp = sum(1 for g, p in pairs if g != cls and p == cls)
        fn = gold_counts[cls] - tp
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per_class[cls] = {
            "n": gold_counts[cls],
            "precision": prec,
            "recall": rec,
            "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        }
    big = [c for c, s in per_class.items() if s["n"] >= MIN_CLASS_EXAMPLES]
    confusion: dict = defaultdict(Counter)
    for g, p in pairs:
        confusion[g][p] += 1
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p in pairs) / max(len(pairs), 1),
        "macro_f1": float(np.mean([per_class[c]["f1"] for c in big])) if big else None,
        "macro_f1_classes": big,
        "per_class": per_class,
        "confusion": {g: dict(c) for g, c in confusion.items()},
    }


def _report(name: str, s: dict) -> None:
    print(
        f"\n{name}: accuracy {s['accuracy']:.3f} over {s['n']} figures; macro-F1 {s['macro_f1']:.3f} "
        f"over {len(s['macro_f1_classes'])} classes with >= {MIN_CLASS_EXAMPLES} examples"
    )
    print(f"  {'class':22} {'n':>3} {'prec':>6} {'rec':>6} {'F1':>6}")
    for cls, c in sorted(s["per_class"].items(), key=lambda kv: -kv[1]["n"]):
        print(f"  {cls:22} {c['n']:>3} {c['precision']:6.2f} {c['recall']:6.2f} {c['f1']:6.2f}")
    wrong = {g: {p: n for p, n in c.items() if p != g} for g, c in s["confusion"].items()}
    print("  confusions:", {g: c for g, c in wrong.items() if c})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--no-scores", action="store_true", help="only train and write the shipped model")
    args = ap.parse_args()

    from scitune.curate.figure_types import MODEL_PATH, classify

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_figures import GENERATORS

    classes = list(GENERATORS)
    print("rendering synthetic figures ...", flush=True)
    synthetic = synthetic_samples(args.per_class, args.seed)
    print("reading corpus figures ...", flush=True)
    records = [r for r in corpus_samples() if r["gold"] in classes]
    papers = sorted({r["paper"] for r in records})
    print(f"{len(synthetic[1])} synthetic figures, {len(records)} corpus figures from {len(papers)} papers")

    def judge(model, held) -> list[tuple[str, str]]:
        return [
            (r["gold"], classify("figure", r["caption"], r["signals"], r["mentions"], model)[0]) for r in held
        ]

    if args.no_scores:
        papers = []
    lopo = []
    for paper in papers:
        train_recs = [r for r in records if r["paper"] != paper]
        model = train(
            *_dataset(synthetic, train_recs, classes), classes, args.seed, class_prior(train_recs, classes)
        )
        lopo += judge(model, [r for r in records if r["paper"] == paper])
    report = {"leave_one_paper_out": scores(lopo)} if lopo else {}
    if not args.no_scores:
        synth_model = train(*_dataset(synthetic, [], classes), classes, args.seed)
        report["synthetic_only"] = scores(judge(synth_model, records))
        words_only = {"classes": np.array(classes)}
        report["caption_words_only"] = scores(judge(words_only, records))
    for name, s in report.items():
        _report(name, s)
    report["settings"] = {
        "per_class": args.per_class,
        "seed": args.seed,
        "hidden": HIDDEN,
        "epochs": EPOCHS,
        "corpus_weight": CORPUS_WEIGHT,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.no_scores:
        (RESULTS / "figure_types.json").write_text(json.dumps(report, indent=1))
    if not args.no_write:
        final = train(
            *_dataset(synthetic, records, classes), classes, args.seed, class_prior(records, classes)
        )
        np.savez_compressed(MODEL_PATH, **final)
        print(
            f"\nwrote {MODEL_PATH} ({MODEL_PATH.stat().st_size / 1024:.0f} KiB), trained on all "
            f"{len(synthetic[1])} synthetic and {len(records)} corpus figures"
        )


if __name__ == "__main__":
    main()
