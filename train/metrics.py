"""Caption and classification metrics, each from a well-kept implementation named in the output.

- `coco_scores`: the COCO caption evaluation toolkit (`pycocoevalcap`): PTB tokenisation, corpus BLEU-4,
  METEOR 1.5, ROUGE-L and CIDEr-D, exactly as COCO captioning papers report them. Its tokenizer and
  METEOR run on Java (the jars ship inside the wheel); without `java` on PATH these are null with the
  reason. SPICE is left out: it downloads Stanford CoreNLP models at run time.
- `google_bleu_per_sample`: what Hugging Face `evaluate`'s `google_bleu` computes (nltk's GLEU over
  sacrebleu's 13a tokens), called once per sample as SciTune did; we report the mean.
- `rouge_l_per_sample`: `rouge-score`'s ROUGE-L F-measure per sample (HF `evaluate`'s `rouge` defaults:
  no stemmer; several references: the best one), mean as SciTune reported.
- `sacrebleu_score`: sacreBLEU corpus BLEU with its signature, for comparison with MT-style reports.
- `classification_scores`: accuracy and per-class precision / recall / F1 with macro-F1 (the
  definitions of scikit-learn's `precision_recall_fscore_support`, written out here: no extra dependency).

Nothing here downloads anything: no nltk data, no `evaluate.load`.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import re
import shutil
import subprocess
from functools import lru_cache
from importlib import metadata

from nltk.translate.gleu_score import corpus_gleu
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from ..schemas import IMAGE_TOKEN
from .captions import FIGURE_LABEL

# Chat artefacts a model may leave around its answer.
_TEMPLATE_TOKENS = re.compile(
    rf"</?s>|<\|[a-z_]+\|>|{re.escape(IMAGE_TOKEN)}|\[/?INST\]|<<SYS>>|<</SYS>>|<pad>|<unk>|<\|endoftext\|>",
    re.I,
)
# "ASSISTANT:", "### Assistant:", or ChatML's role line "assistant\n"
_ROLE_PREFIX = re.compile(
    r"^\s*(?:#+\s*)?(?:assistant|gpt|asst|ai|answer|response)(?:\s*:|[ \t]*\n)\s*", re.I
)
_CAPTION_PREFIX = re.compile(r"^\s*(?:caption|description)\s*:\s*", re.I)


def clean_prediction(text: str) -> str:
    """The caption a model meant: template tokens, role prefixes, a leading `Caption:` or `Figure 3:`
    and surrounding whitespace removed; inner whitespace collapsed."""
    text = _TEMPLATE_TOKENS.sub(" ", text)
    previous = None
    while previous != text:  # prefixes can stack: "ASSISTANT: Caption: Figure 2: ..."
        previous = text
        for pattern in (_ROLE_PREFIX, _CAPTION_PREFIX, FIGURE_LABEL):
            text = pattern.sub("", text, count=1)
    return " ".join(text.split())


def package_version(dist: str) -> str:
    """Installed version of a distribution, for the implementation notes of the results."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=1)
def java_version() -> str | None:
    java = shutil.which("java")
    if not java:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    first = (out.stderr or out.stdout).strip().splitlines()
    return first[0] if first else "java (unknown version)"


def metric_versions() -> dict[str, str]:
    """Which implementation and version computed each caption metric."""
    coco = f"pycocoevalcap {package_version('pycocoevalcap')}"
    java = java_version() or "Java not found"
    return {
        "BLEU-4": f"{coco} Bleu(4), corpus level, PTBTokenizer (Stanford CoreNLP 3.4.1 jar, {java})",
        "METEOR": f"{coco} Meteor (meteor-1.5.jar, -l en -norm, {java})",
        "ROUGE-L": f"{coco} Rouge (LCS F-measure, beta 1.2), mean over samples",
        "CIDEr": f"{coco} Cider (CIDEr-D, sigma 6, IDF from the evaluated references)",
        "google_bleu_mean": f"nltk {package_version('nltk')} gleu_score.corpus_gleu per sample over "
        f"sacrebleu {package_version('sacrebleu')} Tokenizer13a tokens (HF evaluate google_bleu), mean",
        "rougeL_mean": f"rouge-score {package_version('rouge-score')} RougeScorer(['rougeL'], "
        "use_stemmer=False), F-measure per sample (best reference), mean",
        "sacreBLEU": f"sacrebleu {package_version('sacrebleu')} BLEU, corpus level",
    }


METRIC_SCALES = {
    "BLEU-4": "0-1",
    "METEOR": "0-1",
    "ROUGE-L": "0-1",
    "CIDEr": "0-10",
    "google_bleu_mean": "0-1",
    "rougeL_mean": "0-1",
    "sacreBLEU": "0-100",
}


def _ptb_tokenize(captions: dict) -> dict:
    # The Java tokenizer reads one caption per line: inner newlines and the METEOR field separator go.
    clean = {
        k: [{"caption": " ".join(c.replace("|||", " ").split())} for c in v] for k, v in captions.items()
    }
    out = PTBTokenizer().tokenize(clean)
    # Trailing empty captions can be dropped by the tokenizer; they tokenize to empty strings anyway.
    return {k: out.get(k, [""] * len(v)) for k, v in clean.items()}


@lru_cache(maxsize=1)
def _meteor():
    """One METEOR Java process per Python process: loading its paraphrase table takes seconds, so every
    evaluation (and every reference level) in this process shares it. Stopped at exit."""
    meteor = Meteor()

    def stop() -> None:
        meteor.meteor_p.stdin.close()
        meteor.meteor_p.kill()
        meteor.meteor_p.wait()

    atexit.register(stop)
    return meteor


def _meteor_score(gts: dict, res: dict) -> tuple[float, list[float]]:
    try:
        return _meteor().compute_score(gts, res)
    except (BrokenPipeError, ValueError, OSError):  # the Java process died: start a fresh one, once
        _meteor.cache_clear()
        return _meteor().compute_score(gts, res)


def coco_scores(predictions: dict[str, str], references: dict[str, list[str]]) -> dict:
    """COCO caption metrics over the ids of `predictions` (each needs at least one reference).

    Returns {"BLEU-4", "METEOR", "ROUGE-L", "CIDEr"} (null with `coco_error` when Java is missing) and
    the per-sample values under `per_sample`.
    """
    ids = list(predictions)
    if not ids:
        return {"BLEU-4": None, "METEOR": None, "ROUGE-L": None, "CIDEr": None, "per_sample": {}}
    if java_version() is None:
        return {
            "BLEU-4": None,
            "METEOR": None,
            "ROUGE-L": None,
            "CIDEr": None,
            "per_sample": {},
            "coco_error": "Java not found: pycocoevalcap's tokenizer and METEOR need it "
            "(Debian: apt-get install default-jre-headless)",
        }
    tokens = _ptb_tokenize(
        {**{("ref", i): references[i] for i in ids}, **{("hyp", i): [predictions[i]] for i in ids}}
    )
    gts = {i: tokens[("ref", i)] for i in ids}
    res = {i: tokens[("hyp", i)] for i in ids}
    out: dict = {"per_sample": {}}
    with contextlib.redirect_stdout(io.StringIO()):  # Bleu prints its length statistics
        bleu, bleu_each = Bleu(4).compute_score(gts, res)
    out["BLEU-4"], out["per_sample"]["BLEU-4"] = bleu[3], list(bleu_each[3])
    out["METEOR"], each = _meteor_score(gts, res)
    out["per_sample"]["METEOR"] = list(each)
    rouge, each = Rouge().compute_score(gts, res)
    out["ROUGE-L"], out["per_sample"]["ROUGE-L"] = float(rouge), [float(x) for x in each]
    cider, each = Cider().compute_score(gts, res)
    out["CIDEr"], out["per_sample"]["CIDEr"] = float(cider), [float(x) for x in each]
    return out


def google_bleu_per_sample(predictions: list[str], references: list[list[str]]) -> list[float]:
    """HF `evaluate`'s google_bleu on each sample alone (13a tokens, nltk GLEU, n-grams 1..4)."""
    tok = Tokenizer13a()
    return [
        corpus_gleu([[tok(r).split() for r in refs]], [tok(pred).split()], min_len=1, max_len=4)
        for pred, refs in zip(predictions, references)
    ]


def rouge_l_per_sample(predictions: list[str], references: list[list[str]]) -> list[float]:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return [scorer.score_multi(refs, pred)["rougeL"].fmeasure for pred, refs in zip(predictions, references)]


def sacrebleu_score(predictions: list[str], references: list[list[str]]) -> tuple[float, str]:
    """Corpus BLEU (0-100) and sacreBLEU's signature; a variable number of references is allowed."""
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    bleu = BLEU()
    result = bleu.corpus_score(predictions, streams)
    return result.score, str(bleu.get_signature())


def caption_scores(predictions: dict[str, str], references: dict[str, list[str]]) -> dict:
    """All caption metrics for `predictions` (id -> cleaned text) against `references` (id -> texts).

    Returns `scores` (metric -> value), `per_sample` (metric -> id -> value), `versions`, `scales`.
    """
    ids = [i for i in predictions if references.get(i)]
    preds = [predictions[i] for i in ids]
    refs = [references[i] for i in ids]
    scores: dict = {"n": len(ids)}
    per_sample: dict[str, dict[str, float]] = {}
    if ids:
        coco = coco_scores({i: predictions[i] for i in ids}, {i: references[i] for i in ids})
        for name in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr"):
            scores[name] = coco[name]
            if name in coco["per_sample"]:
                per_sample[name] = dict(zip(ids, coco["per_sample"][name]))
        if "coco_error" in coco:
            scores["coco_error"] = coco["coco_error"]
        gleu = google_bleu_per_sample(preds, refs)
        rouge = rouge_l_per_sample(preds, refs)
        scores["google_bleu_mean"] = sum(gleu) / len(gleu)
        scores["rougeL_mean"] = sum(rouge) / len(rouge)
        per_sample["google_bleu"], per_sample["rougeL"] = dict(zip(ids, gleu)), dict(zip(ids, rouge))
        scores["sacreBLEU"], scores["sacreBLEU_signature"] = sacrebleu_score(preds, refs)
    return {
        "scores": scores,
        "per_sample": per_sample,
        "versions": metric_versions(),
        "scales": METRIC_SCALES,
    }


def classification_scores(gold: list[str], predicted: list[str | None]) -> dict:
    """Accuracy and per-class precision, recall, F1 and support; macro-F1 is their unweighted mean over
    the classes seen in `gold` or `predicted`. A `None` prediction (nothing readable) counts wrong."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    labels = sorted(set(gold) | {p for p in predicted if p is not None})
    per_class = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    correct = sum(g == p for g, p in zip(gold, predicted))
    return {
        "n": len(gold),
        "accuracy": correct / len(gold) if gold else None,
        "macro_f1": sum(c["f1"] for c in per_class.values()) / len(per_class) if per_class else None,
        "unparsed": sum(p is None for p in predicted),
        "per_class": per_class,
    }
