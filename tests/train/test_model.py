"""LLaVA assembly: the exactly-linear projector, freezing by stage, and save/reload as a stock checkpoint."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from scitune.train.config import ModelConfig, load_config
from scitune.train.model import (
    IMAGE_TOKEN,
    build_model,
    count_parameters,
    image_seq_length,
    load_model,
    save_model,
    set_trainable,
)

TEXTS = ["A red bar chart with 5 points.", "Describe the figure.", "The flux rises with frequency."] * 30


def tiny(**changes) -> ModelConfig:
    cfg = load_config("tiny-cpu").model
    for key, value in changes.items():
        setattr(cfg, key, value)
    return cfg


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return build_model(tiny(), TEXTS)


def test_linear_projector_is_one_linear_map(tiny_model):
    model, _ = tiny_model
    proj = model.model.multi_modal_projector
    assert model.config.scitune_projector == "linear" and model.config.projector_hidden_act == "linear"
    x = torch.randn(3, 5, proj.linear_1.in_features)
    expected = x @ proj.linear_1.weight.T + proj.linear_1.bias
    assert torch.allclose(proj(x), expected, atol=1e-6)


def test_stages_freeze_the_right_parts(tiny_model):
    model, _ = tiny_model
    align = set_trainable(model, "align")
    assert align == [
        "model.multi_modal_projector.linear_1.weight",
        "model.multi_modal_projector.linear_1.bias",
    ]
    instruct = set(set_trainable(model, "instruct"))
    assert not any(n.startswith("model.vision_tower") for n in instruct)
    assert not any("linear_2" in n for n in instruct)  # the identity half stays the identity
    assert "lm_head.weight" in instruct and "model.language_model.embed_tokens.weight" in instruct
    assert any(".layers.0.self_attn.q_proj" in n for n in instruct)
    with pytest.raises(ValueError):
        set_trainable(model, "pretrain")


def test_mlp2x_gelu_projector_trains_both_layers():
    model, _ = build_model(tiny(projector="mlp2x_gelu"), TEXTS)
    assert model.config.projector_hidden_act == "gelu"
    assert set_trainable(model, "align") == [
        "model.multi_modal_projector.linear_1.weight",
        "model.multi_modal_projector.linear_1.bias",
        "model.multi_modal_projector.linear_2.weight",
        "model.multi_modal_projector.linear_2.bias",
    ]


def _inputs(processor, color=(200, 30, 30)):
    messages = [{"role": "user", "content": f"{IMAGE_TOKEN}\nDescribe the figure."}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return processor(text=text, images=Image.new("RGB", (80, 60), color), return_tensors="pt")


def test_checkpoint_reloads_with_stock_transformers(tiny_model, tmp_path):
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    model, processor = tiny_model
    model.eval()
    save_model(model, processor, tmp_path / "ckpt")
    stock = LlavaForConditionalGeneration.from_pretrained(tmp_path / "ckpt").eval()
    stock_processor = AutoProcessor.from_pretrained(tmp_path / "ckpt")
    inputs = _inputs(stock_processor)
    assert int((inputs["input_ids"] == model.config.image_token_id).sum()) == model.config.image_seq_length
    assert inputs["input_ids"].tolist() == _inputs(processor)["input_ids"].tolist()
    with torch.no_grad():
        assert torch.equal(stock(**inputs).logits, model(**inputs).logits)
    reloaded, _ = load_model(tmp_path / "ckpt")
    for (name, a), (_, b) in zip(model.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert reloaded.config.scitune_projector == "linear"
    assert reloaded.generation_config.eos_token_id == processor.tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_scitune_vision_geometry_gives_256_image_tokens():
    # SciTune: 224 px, patch 14, CLS dropped -> 16 x 16 = 256 image tokens
    vision = dict(load_config("tiny-cpu").model.vision_config, image_size=224, patch_size=14)
    model, processor = build_model(tiny(vision_config=vision), TEXTS)
    assert model.config.image_seq_length == 256 == image_seq_length(processor)
    assert model.config.vision_feature_layer == -2
    assert model.config.vision_feature_select_strategy == "default"


def test_siglip_keeps_all_patches_and_refuses_to_drop_a_cls_it_lacks():
    vision = dict(
        model_type="siglip_vision_model",
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=64,
        patch_size=16,
    )
    model, processor = build_model(tiny(vision_config=vision, drop_cls=False), TEXTS)
    assert model.config.vision_feature_select_strategy == "full"
    assert model.config.image_seq_length == 16 == image_seq_length(processor)
    with torch.no_grad():
        out = model(**_inputs(processor))
    assert out.logits.shape[1] == _inputs(processor)["input_ids"].shape[1]
    with pytest.raises(ValueError, match="drop_cls"):
        build_model(tiny(vision_config=vision, drop_cls=True), TEXTS)


def test_tiny_model_is_a_few_million_parameters(tiny_model):
    model, processor = tiny_model
    assert 1e5 < count_parameters(model) < 5e6
    tok = processor.tokenizer
    assert tok.chat_template and tok.pad_token_id == tok.eos_token_id
