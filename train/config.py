"""Typed training configuration: dataclasses, YAML presets and `key=value` overrides.

A run is described by one `Config`: the model parts (`model`), how rows become token batches
(`data`), settings shared by all stages (`train`), and the two SciTune stages (`align`: projector
only; `instruct`: LLM + projector, vision frozen), each with its own data, learning rate, epochs and
batch size. Presets ship as YAML in `train/configs/` (`tiny-cpu`, `scitune-7b`, `scitune-13b`);
`load_config("tiny-cpu", ["instruct.lr=1e-3"])` reads one and applies dotted overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ModelConfig:
    """Where the model parts come from and how they are joined (LLaVA: vision -> projector -> LLM)."""

    vision: str = "config"
    """Vision encoder: a Hub id or local folder (CLIP, SigLIP), or `config` to build one from
    `vision_config`."""
    llm: str = "config"
    """Causal LM: a Hub id, a local folder, a `.gguf` file, or `config` to build one from `llm_config`."""
    tokenizer: str | None = None
    """Tokenizer: a Hub id or folder; `train` trains a byte-level BPE on the training text; None: the
    LLM's own."""
    chat_template: str | None = None
    """A built-in template name (`vicuna`, `chatml`, `llama-2`, `llama-3`), a Jinja string, or None
    for the tokenizer's own template."""
    projector: str = "linear"
    """`linear` (SciTune: one Linear) or `mlp2x_gelu` (LLaVA-1.5: Linear, GELU, Linear)."""
    vision_feature_layer: int = -2
    """Which vision hidden layer feeds the projector (SciTune, LLaVA: the second to last)."""
    drop_cls: bool = True
    """Drop the CLS token from the image features (SciTune: yes; use False for SigLIP, which has none)."""
    image_size: int | None = None
    """Square input size in pixels (SciTune: 224); None keeps the vision encoder's own."""
    init_from: str | None = None
    """A saved scitune/LLaVA checkpoint folder to start from instead of assembling parts."""
    attn_implementation: str = "sdpa"
    tokenizer_vocab_size: int = 2048
    """Vocabulary size when `tokenizer: train`."""
    tokenizer_train_rows: int = 10000
    """How many training rows feed the tokenizer when `tokenizer: train`."""
    vision_config: dict = field(default_factory=dict)
    """Keyword arguments of `CLIPVisionConfig` when `vision: config` (with `model_type:
    siglip_vision_model`, of that model's config instead)."""
    llm_config: dict = field(default_factory=dict)
    """Keyword arguments of `LlamaConfig` when `llm: config` (vocab_size follows the tokenizer)."""


@dataclass
class DataConfig:
    """How instruction rows become batches."""

    path: str | None = None
    """Default data of every stage: an instructions folder (OUT of `scitune-curate`), a Parquet file,
    a LLaVA conversation JSON, or a Hub dataset id. A stage's own `data` wins."""
    image_folder: str | None = None
    """Images of a LLaVA JSON (default: the JSON's folder)."""
    split: str = "train"
    streaming: bool = False
    """Stream the rows (big Hub datasets); needs `max_steps` on the stages."""
    max_length: int = 2048
    """Longest sequence in tokens; a row whose image span would be cut is skipped (and counted)."""
    group_by_length: bool = True
    """Batch rows of similar length (less padding); order stays random across groups."""
    group_chunk: int = 64
    """Length grouping sorts within chunks of this many micro-batches."""
    packing: bool = False
    """Pack several rows into one sequence with separate attention (refused where not exact)."""
    pad_to_multiple_of: int = 8
    shuffle_buffer: int = 10000
    """Shuffle buffer of streamed datasets."""
    workers: int = 0
    """Processes that prepare batches (decode and preprocess images); 0: a thread of the training
    process does it. The order of the batches is the same either way."""
    prefetch: int = 2
    """Steps prepared ahead (by the thread, or per worker process); 0 with `workers: 0`: none."""


# Every linear layer of a LLaMA-family block, as QLoRA and LLaVA-1.5's LoRA recipe adapt them.
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class StageConfig:
    """One training stage. `align` trains the projector; `instruct` trains the LLM and projector."""

    enabled: bool = True
    data: str | None = None
    """This stage's data (default: `data.path`)."""
    lr: float = 2e-5
    min_lr_ratio: float = 0.0
    """The cosine schedule ends at `lr * min_lr_ratio`."""
    warmup_ratio: float = 0.03
    epochs: float = 1.0
    max_steps: int | None = None
    """Optimizer steps; None: as many as `epochs` need."""
    batch_size: int = 4
    """Rows per micro-batch on each process."""
    grad_accum: int = 1
    """Micro-batches per optimizer step on each process."""
    weight_decay: float = 0.0
    save_every: int = 0
    """Write a training checkpoint every N steps (0: only at the end)."""
    lora_r: int = 0
    """`instruct` only: LoRA adapters of this rank (peft) on the LLM instead of training its full
    weights; the projector still trains in full. 0: no LoRA. Merged into the saved model."""
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: list(LORA_TARGETS))
    """Names of the LLM's linear layers that get adapters (LLaMA-family names by default)."""


@dataclass
class TrainConfig:
    """Settings shared by every stage."""

    output: str = "runs/scitune"
    seed: int = 0
    dtype: str = "auto"
    """`auto` (bf16 autocast on GPU, fp32 on CPU), `bf16` or `fp32`."""
    parallel: str = "auto"
    """`auto` (DDP under torchrun, else single), `single`, `ddp` or `fsdp` (FSDP2 `fully_shard`)."""
    grad_clip: float = 1.0
    gradient_checkpointing: bool = False
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    log_every: int = 10
    keep_checkpoints: int = 2
    """Training checkpoints kept per stage (the newest)."""
    stop_at: int | None = None
    """Stop after this step of the current stage, leaving a checkpoint (time-boxed jobs); the learning
    rate schedule still spans the whole stage, so `--resume` continues exactly."""
    save_model: bool = True
    """Write the final transformers checkpoint (false only for throughput measurements)."""
    metrics_file: bool = True
    """Append metrics as JSON lines to OUTPUT/<stage>/metrics.jsonl."""
    progress: bool = True
    threads: int | None = None
    """CPU threads of torch (None: torch's default). Small models train faster with 1, and far faster
    when other processes share the cores (OpenMP threads spin waiting for each other)."""
    peak_flops: float | None = None
    """Peak bf16 FLOP/s of one accelerator for the MFU estimate (default: looked up from the GPU name)."""


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    align: StageConfig = field(default_factory=lambda: StageConfig(enabled=False, lr=2e-3))
    instruct: StageConfig = field(default_factory=StageConfig)

    def stages(self) -> list[tuple[str, StageConfig]]:
        """The enabled stages, in training order."""
        return [(name, s) for name, s in (("align", self.align), ("instruct", self.instruct)) if s.enabled]


class ConfigError(ValueError):
    pass


def presets() -> list[str]:
    """Names of the shipped presets (`train/configs/*.yaml`)."""
    folder = resources.files("scitune.train") / "configs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_yaml(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if name_or_path not in presets():
        raise ConfigError(
            f"{name_or_path!r} is neither a YAML file nor a preset; presets: {', '.join(presets())}"
        )
    text = (resources.files("scitune.train") / "configs" / f"{name_or_path}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`, converting strings from the command line."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError("; ".join(errors))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _from_dict(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number = float(value) if tp is float else int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}") from None
        if tp is int and isinstance(value, float) and value != int(value):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if origin is tuple:
        if isinstance(value, str):
            value = yaml.safe_load(value)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if tp is list or origin is list:
        if isinstance(value, str):  # `a,b,c` or YAML `[a, b, c]`
            value = yaml.safe_load(value) if value.startswith("[") else [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, args[0], where) for v in value] if args else list(value)
    if tp is dict or origin is dict:
        if isinstance(value, str):
            value = yaml.safe_load(value)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    return value


def _from_dict(cls, data: dict, where: str = ""):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    prefix = f"{where}." if where else ""  # `where` is the dotted path of this section, e.g. "instruct"
    unknown = [k for k in data if k not in names]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, names, n=3)
        hint = (
            f"; did you mean {' or '.join(prefix + c for c in close)}?"
            if close
            else f"; known in {where or 'the config'}: {', '.join(names)}"
        )
        raise ConfigError(f"unknown setting {prefix}{key}{hint}")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in data.items()}
    return cls(**kwargs)


def _set_dotted(tree: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {key}: {part} is not a section")
    node[parts[-1]] = value


def parse_override(item: str) -> tuple[str, Any]:
    """`instruct.lr=1e-4` -> ("instruct.lr", "1e-4"); values are converted against the field's type."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} must look like section.key=value (e.g. instruct.lr=1e-4)")
    value = value.strip()
    # YAML gives lists and mappings ([0.9, 0.95], {hidden_size: 64}); scalars stay strings and are
    # converted by the field's type, so "1e-4" becomes a float and "none" None where allowed.
    if value[:1] in ("[", "{"):
        value = yaml.safe_load(value)
    return key.strip(), value


def load_config(name_or_path: str | None = None, overrides: list[str] | None = None) -> Config:
    """Read a preset name or YAML file (None: the defaults) and apply `key=value` overrides."""
    tree = _read_yaml(name_or_path) if name_or_path else {}
    for item in overrides or []:
        key, value = parse_override(item)
        _set_dotted(tree, key, value)
    return _from_dict(Config, tree)


def to_dict(cfg) -> dict:
    """The config as plain data (tuples as lists), for YAML and checkpoints."""

    def plain(v):
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return plain(dataclasses.asdict(cfg))


def save_config(cfg: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False), encoding="utf-8")
