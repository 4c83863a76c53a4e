"""LoRA on the LLM (peft): what trains, merging into a plain model, exact resume, refused settings."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import synthetic_rows, write_instructions

from scitune.train.config import load_config
from scitune.train.loop import finetune
from scitune.train.model import add_lora, build_model, load_model, merge_lora, set_trainable

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@pytest.fixture(scope="module")
def data16(tmp_path_factory):
    return write_instructions(tmp_path_factory.mktemp("synth16"), synthetic_rows(16))


def _tiny():
    cfg = load_config("tiny-cpu")
    torch.manual_seed(0)
    texts = [r["messages"][1]["content"] for r in synthetic_rows(16)] * 5
    return build_model(cfg.model, texts)


def test_adapters_and_projector_train_and_merging_keeps_the_outputs():
    model, _ = _tiny()
    plain_keys = set(model.state_dict())
    n = add_lora(model, r=4, alpha=8, dropout=0.0, targets=["q_proj", "v_proj", "down_proj"])
    assert n == 3 * model.config.text_config.num_hidden_layers
    trained = set_trainable(model, "instruct")
    assert trained and all(".lora_" in k or "multi_modal_projector.linear_1" in k for k in trained)
    assert any("multi_modal_projector" in k for k in trained)
    with torch.no_grad():  # B starts at zero: give the adapters something to merge
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.05)
    model.eval()
    ids = torch.randint(5, model.config.text_config.vocab_size - 5, (2, 12))
    with torch.no_grad():
        before = model(input_ids=ids).logits
        assert merge_lora(model) == n
        after = model(input_ids=ids).logits
    assert set(model.state_dict()) == plain_keys  # a plain LLaVA model again
    assert torch.allclose(before, after, atol=1e-5)
    assert not torch.allclose(before, _tiny()[0].eval()(input_ids=ids).logits, atol=1e-3)


def test_finetune_with_lora_saves_a_plain_model_that_changed_only_where_adapted(data16, tmp_path):
    run = tmp_path / "run"
    cfg = load_config(
        "tiny-cpu",
        [
            f"data.path={data16}",
            f"train.output={run}",
            "train.progress=false",
            "instruct.max_steps=6",
            "instruct.lr=5e-3",
            "instruct.lora_r=4",
            "instruct.lora_targets=q_proj,v_proj",
        ],
    )
    path = finetune(cfg)
    from transformers import AutoTokenizer

    torch.manual_seed(cfg.train.seed)
    initial, _ = build_model(cfg.model, tokenizer=AutoTokenizer.from_pretrained(run / "tokenizer"))
    start = initial.state_dict()
    tuned, _ = load_model(path)
    tuned = tuned.state_dict()
    assert tuned.keys() == start.keys()
    for k, v in start.items():
        adapted = (
            "language_model" in k
            and k.endswith(("q_proj.weight", "v_proj.weight"))
            or "multi_modal_projector.linear_1" in k
        )  # the vision tower's q/v stay frozen
        assert torch.equal(tuned[k], v) != adapted, k


def test_lora_run_resumes_exactly(data16, tmp_path):
    common = [
        f"data.path={data16}",
        "train.progress=false",
        "instruct.max_steps=6",
        "instruct.batch_size=4",
        "instruct.grad_accum=2",
        "data.group_chunk=2",
        "instruct.lora_r=4",
        "instruct.lr=5e-3",
    ]
    finetune(load_config("tiny-cpu", common + [f"train.output={tmp_path / 'a'}"]))
    interrupted = common + [f"train.output={tmp_path / 'b'}"]
    assert finetune(load_config("tiny-cpu", interrupted + ["train.stop_at=3"])) is None
    finetune(load_config("tiny-cpu", interrupted), resume=True)
    a = load_file(str(tmp_path / "a" / "instruct" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "instruct" / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and not any("lora" in k for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_lora_is_refused_where_it_means_nothing(data16, tmp_path):
    cfg = load_config(
        "tiny-cpu",
        [
            f"data.path={data16}",
            f"train.output={tmp_path / 'r'}",
            "train.progress=false",
            "align.enabled=true",
            "align.lora_r=4",
            "align.max_steps=1",
        ],
    )
    with pytest.raises(ValueError, match="only the instruct stage"):
        finetune(cfg)
    model, _ = _tiny()
    with pytest.raises(ValueError, match="lora_targets"):
        add_lora(model, r=4, alpha=8, dropout=0.0, targets=["c_attn"])
