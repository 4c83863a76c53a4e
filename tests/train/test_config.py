"""Configs: every shipped preset loads, the SciTune presets hold the paper's recipe, overrides are typed."""

from __future__ import annotations

import pytest

from scitune.train.config import Config, ConfigError, load_config, presets, save_config


def test_every_shipped_config_loads():
    names = presets()
    assert {"tiny-cpu", "scitune-7b", "scitune-13b"} <= set(names)
    for name in names:
        cfg = load_config(name)
        assert isinstance(cfg, Config) and cfg.stages(), name


@pytest.mark.parametrize("name, llm", [("scitune-7b", "llama-7b"), ("scitune-13b", "llama-13b")])
def test_scitune_presets_follow_the_paper(name, llm):
    cfg = load_config(name)
    assert cfg.model.llm.endswith(llm) and "clip-vit-large-patch14" in cfg.model.vision
    m = cfg.model
    assert (m.projector, m.vision_feature_layer, m.drop_cls, m.image_size) == ("linear", -2, True, 224)
    assert cfg.data.max_length == 2048 and cfg.train.dtype == "bf16" and cfg.train.parallel == "fsdp"
    assert [n for n, _ in cfg.stages()] == ["align", "instruct"]
    a, i = cfg.align, cfg.instruct
    assert (a.lr, a.epochs, a.batch_size, a.grad_accum, a.warmup_ratio) == (2e-3, 1, 8, 2, 0.03)
    assert (i.lr, i.epochs, i.batch_size, i.grad_accum, i.warmup_ratio) == (2e-5, 12, 4, 2, 0.03)


def test_overrides_are_converted_by_the_field_type(tmp_path):
    cfg = load_config(
        "tiny-cpu",
        [
            "instruct.lr=1e-4",
            "instruct.max_steps=none",
            "data.packing=true",
            "train.adam_betas=[0.9, 0.95]",
            "model.llm_config={hidden_size: 32}",
            "align.enabled=yes",
        ],
    )
    assert cfg.instruct.lr == 1e-4 and isinstance(cfg.instruct.lr, float)
    assert cfg.instruct.max_steps is None and cfg.data.packing is True and cfg.align.enabled is True
    assert cfg.train.adam_betas == (0.9, 0.95) and cfg.model.llm_config == {"hidden_size": 32}
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(str(tmp_path / "c.yaml")) == cfg


@pytest.mark.parametrize(
    "override, message",
    [
        ("instruct.lrr=1", r"^unknown setting instruct\.lrr; did you mean instruct\.lr or instruct\.lora_r"),
        ("instruct.batch_size=two", r"^instruct\.batch_size: expected int"),
        ("instruct.batch_size=1.5", "expected int"),
        ("data.packing=maybe", "true/false"),
        ("nokey", "section.key=value"),
    ],
)
def test_bad_overrides_say_what_is_wrong(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("tiny-cpu", [override])


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="tiny-cpu"):
        load_config("tiny-gpu")
