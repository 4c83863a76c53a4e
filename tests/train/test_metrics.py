"""Caption and classification metrics against hand-computed values and the reference libraries."""

from __future__ import annotations

import math
import shutil

import pytest

from scitune.train import metrics

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="pycocoevalcap needs Java")


def test_google_bleu_hand_computed():
    # GLEU = min(n-gram precision, n-gram recall) over all 1..4-grams.
    # hyp "the cat sat on the mat" (6 tokens: 6+5+4+3 = 18 n-grams)
    # ref "the cat sat on a mat"  (6 tokens: 18 n-grams); matches: 1-grams 5 (the x1 clipped, cat, sat,
    # on, mat), 2-grams 3 (the cat, cat sat, sat on), 3-grams 2, 4-grams 1 -> 11 / 18.
    [score] = metrics.google_bleu_per_sample(["the cat sat on the mat"], [["the cat sat on a mat"]])
    assert score == pytest.approx(11 / 18)
    # 13a tokenisation splits punctuation, as HF evaluate's google_bleu does: "mat." == "mat ."
    [same] = metrics.google_bleu_per_sample(["the cat sat on the mat."], [["the cat sat on a mat ."]])
    assert same == pytest.approx(
        metrics.google_bleu_per_sample(["the cat sat on the mat ."], [["the cat sat on a mat ."]])[0]
    )
    assert metrics.google_bleu_per_sample(["x"], [["y"]]) == [0.0]


def test_google_bleu_matches_nltk_sentence_gleu():
    from nltk.translate.gleu_score import sentence_gleu

    hyp, refs = "A line plot of the loss per epoch .", ["The loss per epoch .", "Training loss over epochs ."]
    [ours] = metrics.google_bleu_per_sample([hyp], [refs])
    assert ours == pytest.approx(sentence_gleu([r.split() for r in refs], hyp.split()))


def test_rouge_l_hand_computed():
    # LCS("the cat sat on the mat", "the cat is on the mat") = the cat on the mat = 5; P = 5/6, R = 5/6
    [score] = metrics.rouge_l_per_sample(["the cat sat on the mat"], [["the cat is on the mat"]])
    assert score == pytest.approx(5 / 6)
    # several references: the best one counts
    [best] = metrics.rouge_l_per_sample(["a b c d"], [["x y", "a b c d"]])
    assert best == pytest.approx(1.0)


def test_sacrebleu_matches_library_and_allows_variable_references():
    import sacrebleu

    preds = ["the cat sat on the mat", "two dogs play"]
    refs = [["the cat sat on a mat", "a cat on the mat"], ["two dogs are playing"]]
    score, signature = metrics.sacrebleu_score(preds, refs)
    direct = sacrebleu.corpus_bleu(
        preds, [["the cat sat on a mat", "two dogs are playing"], ["a cat on the mat", None]]
    )
    assert score == pytest.approx(direct.score)
    assert "nrefs:var" in signature and "tok:13a" in signature


@needs_java
def test_coco_scores_hand_computed_and_against_pycocoevalcap():
    preds = {"a": "A b c d e f.", "b": "the cat sat on the mat"}
    refs = {"a": ["a b c d e g"], "b": ["the cat sat on the mat", "a cat is on a mat"]}
    out = metrics.caption_scores(preds, refs)
    s = out["scores"]
    # BLEU-4 of "a": precisions 5/6, 4/5, 3/4, 2/3, brevity 1 -> (1/3) ** (1/4); "b" is exact -> 1
    assert out["per_sample"]["BLEU-4"]["a"] == pytest.approx((1 / 3) ** 0.25, abs=1e-6)
    assert out["per_sample"]["BLEU-4"]["b"] == pytest.approx(1.0, abs=1e-6)
    # corpus BLEU pools the counts of both: (11/12 * 9/10 * 7/8 * 5/6) ** (1/4), not the mean of the two
    assert s["BLEU-4"] == pytest.approx((11 / 12 * 9 / 10 * 7 / 8 * 5 / 6) ** 0.25, abs=1e-6)
    # ROUGE-L (beta 1.2) of an exact match is 1; of "a": LCS 5 of 6 both ways -> 5/6
    assert out["per_sample"]["ROUGE-L"]["b"] == pytest.approx(1.0)
    assert out["per_sample"]["ROUGE-L"]["a"] == pytest.approx(5 / 6)
    assert s["ROUGE-L"] == pytest.approx((1 + 5 / 6) / 2)
    # METEOR 1.5 gives an exact match 1 (no fragmentation penalty) and a partial one less
    assert out["per_sample"]["METEOR"]["b"] == pytest.approx(1.0)
    assert 0.2 < out["per_sample"]["METEOR"]["a"] < 0.9
    assert 0 < s["CIDEr"] and math.isfinite(s["CIDEr"])

    # the same numbers straight from pycocoevalcap (its own tokenizer, scorers and conventions)
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({k: [{"caption": c} for c in v] for k, v in refs.items()})
    res = tok.tokenize({k: [{"caption": preds[k]}] for k in refs})
    assert s["BLEU-4"] == pytest.approx(Bleu(4).compute_score(gts, res, verbose=0)[0][3])
    assert s["CIDEr"] == pytest.approx(Cider().compute_score(gts, res)[0])
    assert "pycocoevalcap 1." in out["versions"]["BLEU-4"] and "openjdk" in out["versions"]["METEOR"].lower()


@needs_java
def test_caption_metrics_need_no_network_and_no_nltk_data(monkeypatch, tmp_path):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a caption metric tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))  # an empty nltk data folder: nothing may be looked up
    out = metrics.caption_scores({"a": "a red line plot of loss"}, {"a": ["the red line plot of the loss"]})
    assert all(
        out["scores"][k] is not None for k in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "google_bleu_mean")
    )


def test_caption_scores_without_java_say_why(monkeypatch):
    metrics.java_version.cache_clear()
    monkeypatch.setattr(metrics.shutil, "which", lambda name: None)
    try:
        out = metrics.caption_scores({"a": "a cat"}, {"a": ["a cat"]})
    finally:
        metrics.java_version.cache_clear()
    s = out["scores"]
    assert s["BLEU-4"] is None and s["METEOR"] is None and "Java not found" in s["coco_error"]
    assert s["google_bleu_mean"] == pytest.approx(1.0) and s["rougeL_mean"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("ASSISTANT: The loss falls.</s>", "The loss falls."),
        ("<|im_start|>assistant\nCaption: Figure 3: Loss per epoch.<|im_end|>", "Loss per epoch."),
        ("### Assistant: Fig. 2. Results on\n  ImageNet.", "Results on ImageNet."),
        ("  Description: A map of sites. ", "A map of sites."),
        ("The figure shows Figure 3: inside.", "The figure shows Figure 3: inside."),
    ],
)
def test_clean_prediction(raw, clean):
    assert metrics.clean_prediction(raw) == clean


def test_classification_scores_hand_computed():
    gold = ["line", "line", "bar", "bar", "area"]
    pred = ["line", "bar", "bar", None, "line"]
    s = metrics.classification_scores(gold, pred)
    assert s["accuracy"] == pytest.approx(2 / 5) and s["unparsed"] == 1
    # line: tp 1 fp 1 fn 1 -> P 1/2 R 1/2 F 1/2; bar: tp 1 fp 1 fn 1 -> 1/2; area: tp 0 -> 0
    assert s["per_class"]["line"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert s["per_class"]["area"]["f1"] == 0.0 and s["per_class"]["area"]["support"] == 1
    assert s["macro_f1"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    with pytest.raises(ValueError):
        metrics.classification_scores(["a"], [])
