"""Build a LLaVA model from parts, freeze it by stage, save it and load it back.

The result is always a stock `transformers.LlavaForConditionalGeneration` with a `LlavaProcessor`,
so a saved folder reloads with `from_pretrained` / `AutoProcessor.from_pretrained` and nothing of
ours. Parts come from local folders or Hub ids (`from_pretrained`), a `.gguf` file, or are built
from configs (the tiny CPU model); the tokenizer is the LLM's or a byte-level BPE trained on the fly.

SciTune's projector is one Linear; transformers' LLaVA projector is Linear -> act -> Linear. We keep
the stock module and make it exactly linear: `projector_hidden_act="linear"` (identity) and
`linear_2` fixed to the identity matrix with zero bias and never trained. It saves and reloads as
a normal checkpoint and computes `W x + b`, the SciTune projector (`config.scitune_projector` says
which kind it is).

Entry points: `build_model(cfg.model, texts)`, `set_trainable(model, stage)`, `save_model(...)`, and
`load_model(path) -> (model, processor)`, the stable way to load a checkpoint folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import torch
import transformers
from PIL import Image
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoProcessor,
    AutoTokenizer,
    CLIPVisionConfig,
    LlamaConfig,
    LlamaForCausalLM,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
)
from transformers.models.llava.modeling_llava import LlavaMultiModalProjector

from ..schemas import IMAGE_TOKEN
from .config import ModelConfig

log = logging.getLogger(__name__)


# Chat formats as documented by their authors (LLaVA's conv_vicuna_v1, OpenAI ChatML, Meta's
# Llama 2 and Llama 3 model cards). `eos` is the token that ends an assistant turn (generation
# stops there); `special` lists the tokens the template needs in the vocabulary.
VICUNA_SYSTEM = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)
CHAT_TEMPLATES: dict[str, dict] = {
    "vicuna": {
        "bos": "<s>",
        "eos": "</s>",
        "special": [],
        "template": (
            "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + ' ' }}"
            '{% set loop_messages = messages[1:] %}{% else %}{{ "' + VICUNA_SYSTEM + ' " }}'
            "{% set loop_messages = messages %}{% endif %}"
            "{% for message in loop_messages %}{% if message['role'] == 'user' %}"
            "{{ 'USER: ' + message['content'] + ' ' }}"
            "{% else %}{{ 'ASSISTANT: ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
        ),
    },
    "chatml": {
        "bos": None,
        "eos": "<|im_end|>",
        "special": ["<|im_start|>", "<|im_end|>"],
        "template": (
            "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
            " + '<|im_end|>' + '\n' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        ),
    },
    "llama-2": {
        "bos": "<s>",
        "eos": "</s>",
        "special": [],
        "template": (
            "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
            "{% set loop_messages = messages[1:] %}{% else %}{% set system = '' %}"
            "{% set loop_messages = messages %}{% endif %}"
            "{% for message in loop_messages %}{% if message['role'] == 'user' %}"
            "{% if loop.index0 == 0 and system %}"
            "{{ bos_token + '[INST] <<SYS>>\n' + system + '\n<</SYS>>\n\n' + message['content']"
            " + ' [/INST]' }}"
            "{% else %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}"
            "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}"
        ),
    },
    "llama-3": {
        "bos": "<|begin_of_text|>",
        "eos": "<|eot_id|>",
        "special": ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        "template": (
            "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role']"
            " + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
            "{% endif %}"
        ),
    },
}


# --- tokenizer ------------------------------------------------------------------------------------


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048, chat_template: str = "chatml"):
    """A byte-level BPE tokenizer trained on `texts`, with `<image>` and the chat template's tokens.

    Byte-level means any text encodes (no unknown token); the pad token is the end-of-turn token,
    which is safe because training masks are built from lengths, not from pad ids.
    """
    spec = CHAT_TEMPLATES[chat_template]
    special = [t for t in dict.fromkeys([spec["bos"], spec["eos"], *spec["special"], IMAGE_TOKEN]) if t]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=spec["bos"],
        eos_token=spec["eos"],
        pad_token=spec["eos"],
        extra_special_tokens={"image_token": IMAGE_TOKEN},
    )
    fast.chat_template = spec["template"]
    return fast


def load_tokenizer(cfg: ModelConfig, texts: Iterable[str] | None = None):
    """The tokenizer `cfg` asks for, with a chat template, `<image>` and a pad token.

    `tokenizer: train` trains one on `texts`; otherwise it is the tokenizer's (or LLM's) own, with
    `chat_template` (a built-in name or Jinja) replacing its template and adding missing tokens.
    """
    template = cfg.chat_template
    if cfg.tokenizer == "train":
        if texts is None:
            raise ValueError("model.tokenizer=train needs training text; pass the rows' texts")
        name = template if template in CHAT_TEMPLATES else "chatml"
        tok = train_tokenizer(texts, cfg.tokenizer_vocab_size, name)
        if template and template not in CHAT_TEMPLATES:
            tok.chat_template = template
        return tok
    source = cfg.tokenizer or cfg.llm
    if source == "config":
        raise ValueError("model.llm=config needs model.tokenizer (a tokenizer folder, a Hub id, or `train`)")
    path = Path(source)
    if path.suffix == ".gguf":
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    else:
        tok = AutoTokenizer.from_pretrained(source)
    if template in CHAT_TEMPLATES:
        spec = CHAT_TEMPLATES[template]
        missing = [t for t in [spec["bos"], spec["eos"], *spec["special"]] if t and t not in tok.get_vocab()]
        if missing:
            tok.add_tokens(missing, special_tokens=True)
        if spec["bos"]:
            tok.bos_token = spec["bos"]
        tok.eos_token = spec["eos"]
        tok.chat_template = spec["template"]
    elif template:
        tok.chat_template = template
    if not tok.chat_template:
        raise ValueError(
            f"the tokenizer of {source} has no chat template: set model.chat_template "
            f"(one of {', '.join(CHAT_TEMPLATES)} or a Jinja string)"
        )
    if IMAGE_TOKEN not in tok.get_vocab():
        tok.add_tokens([IMAGE_TOKEN], special_tokens=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token  # masks come from lengths, so pad == eos is safe
    return tok


# --- parts ----------------------------------------------------------------------------------------


def _vision_config(cfg: ModelConfig):
    if cfg.vision == "config":
        kwargs = dict(cfg.vision_config)
        model_type = kwargs.pop("model_type", "clip_vision_model")  # e.g. siglip_vision_model
        return (
            CLIPVisionConfig(**kwargs)
            if model_type == "clip_vision_model"
            else AutoConfig.for_model(model_type, **kwargs)
        )
    config = AutoConfig.from_pretrained(cfg.vision)
    return getattr(config, "vision_config", config)  # a full CLIP/SigLIP checkpoint holds a text tower too


def _llm(cfg: ModelConfig, vocab_size: int):
    if cfg.llm == "config":
        kwargs = dict(cfg.llm_config)
        kwargs["vocab_size"] = max(-(-vocab_size // 64) * 64, kwargs.get("vocab_size", 0))  # a multiple of 64
        return LlamaForCausalLM(LlamaConfig(**kwargs))
    path = Path(cfg.llm)
    if path.suffix == ".gguf":
        llm = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
        # the dequantised weights are plain tensors now; the GGUF note would confuse a reload
        if hasattr(llm.config, "quantization_config"):
            del llm.config.quantization_config
        llm.hf_quantizer = None
        return llm
    return AutoModelForCausalLM.from_pretrained(cfg.llm, dtype=torch.float32)


def _make_projector(config):
    projector = LlavaMultiModalProjector(config)
    if config.scitune_projector == "linear":
        with torch.no_grad():
            projector.linear_2.weight.copy_(torch.eye(projector.linear_2.weight.shape[0]))
            if projector.linear_2.bias is not None:
                projector.linear_2.bias.zero_()
    return projector


def _image_processor(cfg: ModelConfig, vision_config):
    if cfg.vision == "config":
        cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
        size = vision_config.image_size
        processor = cls(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    else:
        processor = transformers.AutoImageProcessor.from_pretrained(cfg.vision)
    if cfg.image_size:
        s = cfg.image_size
        if "shortest_edge" in (processor.size or {}):
            processor.size = {"shortest_edge": s}
            processor.crop_size = {"height": s, "width": s}
        else:
            processor.size = {"height": s, "width": s}
    return processor


def _input_size(image_processor) -> int:
    cropped = getattr(image_processor, "do_center_crop", False)
    size = (getattr(image_processor, "crop_size", None) if cropped else None) or image_processor.size
    return int(size.get("height") or size.get("shortest_edge"))


def image_seq_length(processor) -> int:
    """How many `<image>` tokens the processor expands one image into (asked of the processor itself)."""
    side = _input_size(processor.image_processor)
    out = processor(text=IMAGE_TOKEN, images=Image.new("RGB", (side, side)), return_tensors="pt")
    return int((out["input_ids"] == processor.image_token_id).sum())


def build_model(cfg: ModelConfig, texts: Iterable[str] | None = None, tokenizer=None):
    """Assemble a LLaVA model and its processor from `cfg`.

    `texts` train the tokenizer when `cfg.tokenizer == "train"`; a ready `tokenizer` skips that.
    """
    if cfg.init_from:
        return load_model(cfg.init_from)
    if cfg.projector not in ("linear", "mlp2x_gelu"):
        raise ValueError(f"model.projector must be linear or mlp2x_gelu, not {cfg.projector!r}")
    tokenizer = tokenizer if tokenizer is not None else load_tokenizer(cfg, texts)
    vision_config = _vision_config(cfg)
    if cfg.image_size and cfg.image_size != vision_config.image_size:
        if cfg.vision != "config":  # LLaVA does not interpolate position embeddings
            raise ValueError(
                f"{cfg.vision} works at {vision_config.image_size} px, not model.image_size="
                f"{cfg.image_size}; choose an encoder trained at that size"
            )
        vision_config.image_size = cfg.image_size
    image_processor = _image_processor(cfg, vision_config)

    if cfg.vision == "config":
        vision = AutoModel.from_config(vision_config)
    else:
        with torch.device("meta"):
            cls = type(AutoModel.from_config(vision_config))
        vision = cls.from_pretrained(cfg.vision, config=vision_config, dtype=torch.float32)
    llm = _llm(cfg, len(tokenizer))
    if llm.get_input_embeddings().weight.shape[0] < len(tokenizer):
        # new rows (<image>, template tokens) start at the mean of the old ones; a multiple of 64 keeps
        # the LM head's matrix shapes friendly to tensor cores
        llm.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=64, mean_resizing=True)

    # Extra tokens the vision encoder emits besides the patches (CLIP: 1 CLS; SigLIP: none).
    side = _input_size(image_processor)
    with torch.no_grad():
        probe = vision(torch.zeros(1, 3, side, side), output_hidden_states=True)
    n_patches = (side // vision_config.patch_size) ** 2
    n_extra = probe.hidden_states[-1].shape[1] - n_patches
    if cfg.drop_cls and n_extra != 1:
        raise ValueError(
            f"{cfg.vision}: the encoder emits {n_extra} extra tokens, not one CLS; set model.drop_cls=false"
        )

    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=vision_config.patch_size,
        vision_feature_select_strategy="default" if cfg.drop_cls else "full",
        num_additional_image_tokens=n_extra,
        chat_template=tokenizer.chat_template,
    )
    text_config = llm.config.to_dict()
    text_config.pop("quantization_config", None)
    config = LlavaConfig(
        vision_config=vision_config.to_dict(),
        text_config=text_config,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=n_patches + n_extra - int(cfg.drop_cls),
        projector_hidden_act="linear" if cfg.projector == "linear" else "gelu",
        vision_feature_layer=cfg.vision_feature_layer,
        vision_feature_select_strategy="default" if cfg.drop_cls else "full",
        tie_word_embeddings=bool(getattr(llm.config, "tie_word_embeddings", False)),
        scitune_projector=cfg.projector,
    )
    # The shell is built on the meta device (no memory, no init), then the loaded parts move in.
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    model.model.vision_tower = vision
    model.model.language_model = llm.model
    model.lm_head = llm.lm_head
    model.model.multi_modal_projector = _make_projector(config)
    model.config.text_config = llm.config
    model.config.vision_config = vision.config
    stray = [n for n, p in list(model.named_parameters()) + list(model.named_buffers()) if p.is_meta]
    if stray:
        raise RuntimeError(f"parts left on the meta device: {stray[:5]}")
    _set_attention(model, cfg.attn_implementation)
    _set_generation(model, tokenizer)
    if image_seq_length(processor) != config.image_seq_length:
        raise RuntimeError("the processor and the model disagree on the number of image tokens")
    return model, processor


def _set_attention(model, implementation: str) -> None:
    try:
        model.set_attn_implementation(implementation)
    except (AttributeError, ValueError) as e:  # older transformers, or a part without that kernel
        log.warning("attention implementation %s not set: %s", implementation, e)


def _set_generation(model, tokenizer) -> None:
    """Generation stops at the end-of-turn token of the chat template and pads with it."""
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if tokenizer.bos_token_id is not None:
        model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.config.text_config.pad_token_id = tokenizer.pad_token_id


# --- stages ---------------------------------------------------------------------------------------


def set_trainable(model, stage: str) -> list[str]:
    """Freeze everything but what `stage` trains; returns the trained parameter names.

    align: the projector (SciTune stage 1). instruct: LLM + projector, vision frozen (stage 2);
    with LoRA adapters in the LLM (`add_lora`), the adapters + projector, the LLM's own weights frozen.
    The identity half of a linear projector is never trained.
    """
    if stage not in ("align", "instruct"):
        raise ValueError(f"unknown stage {stage!r}")
    for p in model.parameters():
        p.requires_grad_(False)
    trained = list(model.model.multi_modal_projector.parameters())
    if stage == "instruct":
        lora = [p for n, p in model.named_parameters() if ".lora_" in n]
        trained += lora or [*model.model.language_model.parameters(), *model.lm_head.parameters()]
    for p in trained:
        p.requires_grad_(True)
    if getattr(model.config, "scitune_projector", "mlp2x_gelu") == "linear":
        for p in model.model.multi_modal_projector.linear_2.parameters():
            p.requires_grad_(False)
    return [n for n, p in model.named_parameters() if p.requires_grad]


def add_lora(model, r: int, alpha: float, dropout: float, targets: list[str]) -> int:
    """LoRA adapters (peft) on the LLM's linear layers named in `targets`; returns how many.

    The adapters are injected in place (no wrapper model), so the training forward, FLOP counts and
    checkpoints see the same module tree; `merge_lora` folds them back before the model is saved.
    """
    # peft only for LoRA runs (instruct.lora_r): full finetunes do not pay its import
    from peft import LoraConfig, inject_adapter_in_model
    from peft.tuners.lora import LoraLayer

    config = LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(targets), bias="none"
    )
    try:
        inject_adapter_in_model(config, model.model.language_model)
    except ValueError as e:  # peft: "Target modules ... not found in the base model"
        raise ValueError(f"{e} Set instruct.lora_targets to names of the LLM's linear layers.") from None
    return sum(isinstance(m, LoraLayer) for m in model.modules())


def merge_lora(model) -> int:
    """Fold LoRA adapters into their base weights and put the plain layers back (a normal model)."""
    from peft.tuners.lora import LoraLayer  # LoRA runs only, as in add_lora

    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, LoraLayer)]
    for name, m in layers:
        m.merge()
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, m.get_base_layer())
    return len(layers)


# --- save / load ----------------------------------------------------------------------------------


def save_model(model, processor, path: str | Path, state_dict: dict | None = None) -> Path:
    """Write a normal transformers checkpoint (safetensors + config + processor) to `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, state_dict=state_dict)
    processor.save_pretrained(path)
    return path


def load_model(path: str | Path, dtype: torch.dtype | None = None, device: str | torch.device | None = None):
    """Load a checkpoint folder written by `scitune-train finetune` (or any LLaVA checkpoint).

    Returns `(model, processor)`: a `LlavaForConditionalGeneration` in eval mode and its processor
    (`LlavaProcessor`, chat template included). `dtype` defaults to the saved one; `device` to CPU.
    This signature is stable: evaluation and generation code load models through it.
    """
    model = LlavaForConditionalGeneration.from_pretrained(str(path), dtype=dtype or "auto")
    processor = AutoProcessor.from_pretrained(str(path))
    if getattr(model.config, "scitune_projector", None) == "linear":
        w = model.model.multi_modal_projector.linear_2.weight
        if not torch.equal(w, torch.eye(w.shape[0], dtype=w.dtype)):
            log.warning("%s: linear projector whose second half is not the identity", path)
    if device is not None:
        model.to(device)
    return model.eval(), processor


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())  # parameters() yields a tied weight once


def describe(model) -> str:
    """One line: parameter counts of the parts and how many are trained."""
    vision = count_parameters(model.model.vision_tower)
    projector = count_parameters(model.model.multi_modal_projector)
    llm = count_parameters(model) - vision - projector
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return (
        f"vision {vision / 1e6:.2f}M, projector {projector / 1e6:.2f}M, LLM {llm / 1e6:.2f}M; "
        f"trained {trained / 1e6:.2f}M"
    )
