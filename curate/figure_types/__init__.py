"""The figure type of a float: a fine class of `scitune.schemas.taxonomy.FIGURE_TYPES` and its confidence.

    classify(kind, caption, signals, mentions) -> (figure_type, figure_type_score)

How it decides (runs offline in curation, numpy only: never torch):

1. `kind == "table"` -> `table` (score null: nothing was classified).
2. A small learned model (`model.npz`, a one-hidden-layer network over `signals.FEATURES`: what the PDF
   draws inside the region, raster share, text layer, pixel statistics) gives a probability per class,
   trained on balanced classes and multiplied by how common each class is among labelled paper figures.
   It is trained by `benchmarks/figure_types.py` from a seed, on figures rendered from code
   (matplotlib charts of each class, box-and-arrow diagrams, code and algorithm text, synthetic photos
   and screenshots) plus the labelled corpus figures; its corpus accuracy is reported leave-one-paper-out.
3. Words vote: the caption's first sentence (`caption.CAPTION_RULES`) multiplies its class's probability
   by `CAPTION_WEIGHT`, mentions by `MENTION_WEIGHT`, LaTeX source signals (`signals["votes"]`: TikZ,
   pgfplots, graphic file names) by their own weights; then the probabilities are renormalised.
4. The class with the highest probability wins; below `MIN_SCORE` the class is `other` (a doubtful type
   is not written as if it were known), with the winning probability as its score.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ...schemas.taxonomy import FIGURE_TYPES
from .caption import first_sentence, keyword_class
from .signals import FEATURES, vector

MODEL_PATH = Path(__file__).with_name("model.npz")
# A caption that names its type ("Histogram of ...") is right far more often than the pixels are
# decisive; x6 lets a clear caption overrule a model that is unsure, not one that is sure (0.9 vs 0.02
# stays with the model: 0.9 vs 0.12).
CAPTION_WEIGHT = 6.0
# Body sentences that mention the figure speak of it less precisely (several figures, comparisons).
MENTION_WEIGHT = 2.0
# Below this probability the top class is a guess: the row says `other`. Chosen on figures rendered from
# code (benchmarks/figure_types.py), not on the corpus.
MIN_SCORE = 0.4
# classes the caption rules can name, used only while no model file exists
_WORD_CLASSES = [c for c in FIGURE_TYPES if c not in ("table", "other")]


@lru_cache(maxsize=1)
def load_model() -> dict:
    """The shipped model's arrays (`classes`, `mean`, `std`, `w1`, `b1`, `w2`, `b2`, `features`).

    Without the file (only while `benchmarks/figure_types.py` builds it) the model is empty and
    words alone decide."""
    if not MODEL_PATH.exists():
        return {"classes": np.array(_WORD_CLASSES)}
    with np.load(MODEL_PATH, allow_pickle=False) as z:
        model = {k: z[k] for k in z.files}
    names = [str(n) for n in model["features"]]
    if names != FEATURES:
        raise RuntimeError(
            f"{MODEL_PATH} was trained on other features than signals.FEATURES; retrain it with "
            "`python benchmarks/figure_types.py`"
        )
    return model


def predict_proba(x: np.ndarray, model: dict | None = None) -> np.ndarray:
    """Class probabilities for feature rows `x` (n, len(FEATURES)) by the model's network."""
    m = model or load_model()
    z = (np.atleast_2d(x) - m["mean"]) / m["std"]
    h = np.maximum(z @ m["w1"] + m["b1"], 0.0)
    logits = h @ m["w2"] + m["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    if "prior" in m:  # trained on balanced classes: times how common each class is in papers
        p = p * m["prior"]
    return p / p.sum(axis=1, keepdims=True)


def classify(
    kind: str,
    caption: str,
    signals: dict | None,
    mentions: list[str] | tuple[str, ...] = (),
    model: dict | None = None,
) -> tuple[str, float | None]:
    """The fine figure type of one float and its confidence (see the module docstring)."""
    if kind == "table":
        return "table", None
    m = model or load_model()
    classes = [str(c) for c in m["classes"]]
    signals = signals or {}
    if "w1" in m and (signals.get("has_pdf") or signals.get("has_image")):
        p = predict_proba(vector(signals), m)[0]
    else:
        p = np.full(len(classes), 1.0 / len(classes))  # nothing seen: words alone decide
    weights = np.ones(len(classes))
    votes = [(keyword_class(first_sentence(caption)), CAPTION_WEIGHT)]
    # each class named by the mentions votes once, however many sentences name it
    votes += [(cls, MENTION_WEIGHT) for cls in {keyword_class(s.lower()) for s in mentions} if cls]
    votes += [(cls, w) for cls, w in (signals.get("votes") or {}).items()]
    for cls, w in votes:
        if cls in classes:
            weights[classes.index(cls)] *= w
    if "w1" in m and (signals.get("has_pdf") or signals.get("has_image")):
        p = p * weights
    elif (weights > 1).any():
        p = np.where(weights > 1, weights, 0.0)  # nothing seen: the votes share the probability
    p = p / p.sum()
    best = int(p.argmax())
    score = float(p[best])
    return (classes[best] if score >= MIN_SCORE else "other"), round(score, 4)
