"""Batched left-padded greedy decoding with a tiny LLaVA built from the `tiny-cpu` config (no downloads)."""

from __future__ import annotations

import pytest
import torch

from scitune.train import generate as gen
from tests.conftest import png_bytes

TEXTS = [
    "What color is the square? A. red B. blue The answer is A.",
    "Write the caption of this figure.",
    "A line plot of the loss per epoch.",
    "LECTURE: SOLUTION: ### ANSWER: B.",
] * 20


@pytest.fixture(scope="module")
def tiny():
    from scitune.train.config import load_config
    from scitune.train.model import build_model

    torch.manual_seed(0)
    model, processor = build_model(load_config("tiny-cpu").model, TEXTS)
    return model.eval(), processor


def requests():
    colors = [(200, 30, 30), (30, 30, 200), (30, 160, 30)]
    out = []
    for i in range(7):
        image = png_bytes((40 + 8 * i, 32), colors[i % 3]) if i % 3 != 2 else None
        text = ("<image>\n" if image else "") + "What color is the square?" + " Answer briefly." * (i % 4)
        out.append(gen.Request(str(i), text, image))
    return out


def run(tiny, **kw):
    model, processor = tiny
    decoding = gen.Decoding(**{"max_new_tokens": 6, "batch_size": 4, **kw})
    return list(gen.generate(model, processor, requests(), decoding))


def test_batched_left_padded_equals_one_at_a_time(tiny):
    batched = run(tiny, batch_size=4)
    single = run(tiny, batch_size=1)
    assert [g.id for g in batched] == [str(i) for i in range(7)]
    assert all(g.error is None and g.text is not None for g in batched)
    assert [g.text for g in batched] == [g.text for g in single]
    assert tiny[1].tokenizer.padding_side == "left"


def test_greedy_is_deterministic_and_respects_max_new_tokens(tiny):
    first, second = run(tiny), run(tiny)
    assert [g.text for g in first] == [g.text for g in second]
    short = run(tiny, max_new_tokens=3)
    assert all(0 < g.n_tokens <= 3 for g in short)
    assert max(g.n_tokens for g in run(tiny, max_new_tokens=9)) > 3


def test_stop_strings_cut_the_output(tiny):
    free = run(tiny, max_new_tokens=12)
    # stop at the second character of each free-running output: everything from there on is cut
    for g in free:
        if len(g.text) >= 3:
            stop = g.text[1:3]
            [cut] = [x for x in run(tiny, max_new_tokens=12, stop=(stop,)) if x.id == g.id]
            assert stop not in cut.text and g.text.startswith(cut.text)
            break
    else:
        pytest.skip("the untrained model produced only very short outputs")
    assert gen._cut("The answer is A.###\nmore", ["###", "\n"]) == "The answer is A."
    assert gen._cut("  B  ", []) == "B"


def test_a_broken_request_is_isolated(tiny):
    model, processor = tiny
    reqs = requests()[:3] + [gen.Request("bad", "<image>\nWhat is this?", b"not an image")]
    out = list(gen.generate(model, processor, reqs, gen.Decoding(max_new_tokens=4, batch_size=4)))
    assert [g.id for g in out] == ["0", "1", "2", "bad"]
    assert all(g.text is not None for g in out[:3])
    assert out[3].text is None and "UnidentifiedImageError" in out[3].error


def test_prompt_goes_through_the_chat_template(tiny):
    processor = tiny[1]
    rendered = gen.render(processor, "<image>\nHello")
    assert rendered == "<|im_start|>user\n<image>\nHello<|im_end|>\n<|im_start|>assistant\n"
    assert gen.chat_template_name(processor) == "tokenizer chat template"


def test_decoding_settings_are_recorded():
    d = gen.Decoding(max_new_tokens=8, stop=("###",)).as_dict()
    assert d["strategy"] == "greedy" and d["stop"] == ["###"] and d["max_new_tokens"] == 8
    assert "seed 3" in gen.Decoding(do_sample=True, seed=3, temperature=0.7).as_dict()["strategy"]
