"""The training loop, one file top to bottom (nanoGPT-style, no trainer framework).

`finetune(cfg)` runs the enabled stages in order (`align`: projector only; `instruct`: LLM +
projector, vision frozen), each stage starting from the previous stage's saved model. A stage:

    rows -> BatchStream -> (background thread) this process's micro-batches of each step
    for step: lr from the cosine schedule; forward/backward every micro-batch with the loss
              normalised by the target tokens of the whole step (all micro-batches, all ranks);
              clip; AdamW step; log; checkpoint
    save a normal transformers checkpoint (model + processor) to OUTPUT/<stage>/model

Runs on one CPU, one GPU (bf16 autocast), or many GPUs under `torchrun` (DDP, or FSDP2
`fully_shard` for models that do not fit one GPU). Training checkpoints
(OUTPUT/<stage>/checkpoints/step-N: model + optimizer via torch.distributed.checkpoint, and the
step, data position and RNG states) make `--resume` continue exactly where the run stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import random
import shutil
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.nn.functional as F
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from .config import Config, StageConfig, save_config
from .data import BatchStream, Encoder, StreamState, collate, open_rows, row_texts
from .model import (
    add_lora,
    build_model,
    describe,
    load_model,
    load_tokenizer,
    merge_lora,
    save_model,
    set_trainable,
)

log = logging.getLogger("scitune.train")

# Dense bf16 peak FLOP/s per GPU (vendor data sheets), for the MFU estimate.
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 70e12, "L4": 121e12}


# --- processes and devices ------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    mode: str = "single"  # single | ddp | fsdp
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def setup_distributed(parallel: str) -> Dist:
    """Join the process group when started by torchrun; pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if parallel not in ("auto", "single", "ddp", "fsdp"):
        raise ValueError(f"train.parallel must be auto, single, ddp or fsdp, not {parallel!r}")
    if parallel == "single" and world > 1:
        raise ValueError("train.parallel=single under torchrun with several processes")
    mode = "ddp" if parallel == "auto" and world > 1 else ("single" if parallel == "auto" else parallel)
    d = Dist(
        rank=int(os.environ.get("RANK", "0")),
        world=world,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        mode=mode,
    )
    if torch.cuda.is_available():
        torch.cuda.set_device(d.local_rank)
        d.device = torch.device("cuda", d.local_rank)
    if mode in ("ddp", "fsdp") and not dist.is_initialized():
        if "RANK" not in os.environ:  # one process through the distributed code path (FSDP on 1 GPU)
            os.environ.update(
                RANK="0",
                WORLD_SIZE="1",
                LOCAL_RANK="0",
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=os.environ.get("MASTER_PORT", "29511"),
            )
        dist.init_process_group("nccl" if d.device.type == "cuda" else "gloo")
    return d


def autocast_dtype(cfg: Config, device: torch.device) -> torch.dtype | None:
    want = cfg.train.dtype
    if want not in ("auto", "bf16", "fp32"):
        raise ValueError(f"train.dtype must be auto, bf16 or fp32, not {want!r}")
    if want == "fp32" or (want == "auto" and device.type != "cuda"):
        return None
    return torch.bfloat16


# --- the model as trained: forward to a summed loss ---------------------------------------------


class TrainModule(torch.nn.Module):
    """The LLaVA model plus its loss, so DDP/FSDP wrap one module whose forward returns the loss.

    The loss is the SUM of token cross-entropies over learned tokens; the loop divides by the
    step's target count. Logits are computed only at learned positions (the LM head over the
    whole vocabulary at prompt, image and pad positions is wasted work).
    """

    def __init__(self, llava):
        super().__init__()
        self.llava = llava

    def forward(
        self, input_ids, target_ids, target_index, attention_mask=None, position_ids=None, pixel_values=None
    ):
        hidden = self.llava.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
        ).last_hidden_state
        hidden = hidden[:, :-1].reshape(-1, hidden.shape[-1]).index_select(0, target_index)
        logits = self.llava.lm_head(hidden).float()
        loss = F.cross_entropy(logits, target_ids, reduction="sum")
        if pixel_values is None:
            # Keep the projector in the graph on image-free batches, so DDP/FSDP see a gradient
            # (zero) for every trained parameter on every rank.
            loss = (
                loss
                + sum(p.sum() for p in self.llava.model.multi_modal_projector.parameters() if p.requires_grad)
                * 0.0
            )
        return loss


def wrap(module: TrainModule, d: Dist, cast: torch.dtype | None):
    """Move to the device and wrap for DDP or FSDP2."""
    if d.mode == "fsdp":
        # FSDP2 only: importing it costs ~2 s, paid by FSDP runs alone
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        mesh = init_device_mesh(d.device.type, (d.world,))
        mp = (
            MixedPrecisionPolicy(param_dtype=cast, reduce_dtype=torch.float32)
            if cast
            else MixedPrecisionPolicy()
        )
        # One shard group per transformer block (vision and LLM), then the rest. fully_shard moves
        # each group's parameters to the mesh's device as it shards them, so the whole model never
        # has to fit on one device.
        for m in module.modules():
            if type(m).__name__.endswith(("DecoderLayer", "EncoderLayer")):
                fully_shard(m, mesh=mesh, mp_policy=mp)
        fully_shard(module, mesh=mesh, mp_policy=mp)  # also moves the buffers
        return module
    module.to(d.device)
    if d.mode == "ddp":
        return DDP(module, device_ids=[d.local_rank] if d.device.type == "cuda" else None)
    return module


def unwrap(module) -> TrainModule:
    return module.module if hasattr(module, "module") and not isinstance(module, TrainModule) else module


# --- schedule and FLOPs ---------------------------------------------------------------------------


def lr_at(step: int, total: int, stage: StageConfig) -> float:
    """Linear warmup, then cosine decay to `lr * min_lr_ratio` at the last step."""
    warmup = math.ceil(stage.warmup_ratio * total)
    if step < warmup:
        return stage.lr * (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    low = stage.lr * stage.min_lr_ratio
    return low + (stage.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def flop_counter(llava, stage: str, lora: bool = False):
    """FLOPs of one micro-batch from its host-side counts (nanoGPT's 6N + attention, by part).

    LLM: 6 FLOPs per parameter per token when its weights train (instruct), 4 when only gradients
    flow through it (align, or instruct with LoRA: the adapters' own FLOPs are left out); attention
    12 * layers * width * sum(len^2) (forward + backward); LM head only at learned tokens; vision tower
    forward only (frozen): 2 per parameter per patch.
    """
    text = llava.config.text_config
    lm = llava.model.language_model
    n_llm = sum(p.numel() for p in lm.parameters()) - lm.get_input_embeddings().weight.numel()
    head = llava.lm_head.weight.numel()
    n_vision = sum(p.numel() for p in llava.model.vision_tower.parameters())
    per_image = llava.config.image_seq_length + 1
    k = 6 if stage == "instruct" and not lora else 4

    def flops(b: dict) -> float:
        n_images = 0 if b.get("pixel_values") is None else b["pixel_values"].shape[0]
        return (
            k * n_llm * b["n_tokens"]
            + 12 * text.num_hidden_layers * text.hidden_size * b["seq_sq"]
            + k * head * b["n_targets"]
            + 2 * n_vision * per_image * n_images
        )

    return flops


def peak_flops(cfg: Config, device: torch.device) -> float | None:
    if cfg.train.peak_flops:
        return cfg.train.peak_flops
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


# --- data for each step, prepared in a background thread -----------------------------------------


def _to_device(batch: dict, device: torch.device) -> dict:
    keys = ("input_ids", "target_ids", "target_index", "attention_mask", "position_ids", "pixel_values")
    return {k: batch[k].to(device, non_blocking=True) for k in keys if k in batch}


def step_batches(
    stream: BatchStream,
    d: Dist,
    accum: int,
    epochs: float,
    processor,
    packed: bool,
    pad_to: int,
    worker: int = 0,
    workers: int = 1,
):
    """Yield, per optimizer step: this process's collated micro-batches, the step's tokens on all
    processes, the stream state after the step and the skip counts.

    A step takes `world * accum` micro-batches; micro-batch j goes to rank j % world. The last
    step of a stage may be short; one with fewer micro-batches than processes is dropped (logged).
    With several loader workers, worker w collates (decodes images for) steps w, w + workers, ...
    only; every worker walks the same stream, so the steps come out in one fixed order.
    """
    it = iter(stream)
    per_step = d.world * accum
    done = False
    k = -1
    while not done:
        taken, state = [], None
        for micro, state in it:
            taken.append(micro)
            if stream.epoch_progress(state) >= epochs:
                done = True
            if len(taken) == per_step or done:
                break
        if len(taken) < d.world:
            if taken:
                log.warning(
                    "dropping the last %d micro-batch(es): fewer than the %d processes", len(taken), d.world
                )
            return
        k += 1
        if k % workers != worker:
            continue
        tokens = sum(len(s) for micro in taken for unit in micro for s in (unit if packed else [unit]))
        mine = [
            collate(micro, stream.encoder.pad_id, processor.image_processor, packed, pad_to)
            for micro in taken[d.rank :: d.world]
        ]
        yield mine, tokens, state, dict(stream.skipped)


class StepSource(torch.utils.data.IterableDataset):
    """The steps as an iterable dataset, for DataLoader worker processes (images decoded off the
    training process, as transformers' Trainer does with its workers). Worker w of n yields steps
    w, w + n, ...; DataLoader takes from its workers in turn, so the order stays the stream's."""

    def __init__(self, make_steps):
        self.make_steps = make_steps

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        return self.make_steps(info.id if info else 0, info.num_workers if info else 1)


def _as_is(item):
    return item


def _pinned(value):
    return value.pin_memory() if torch.is_tensor(value) else value


class StepLoader:
    """The steps of a stage, prepared ahead: in a thread (`workers=0`) or in worker processes."""

    def __init__(self, make_steps, workers: int, depth: int, pin: bool):
        self.stop = threading.Event()
        self.loader = None
        if workers > 0:
            self.loader = torch.utils.data.DataLoader(
                StepSource(make_steps),
                batch_size=None,
                num_workers=workers,
                collate_fn=_as_is,
                pin_memory=pin,
                prefetch_factor=max(1, depth),
            )
            self.items = iter(self.loader)
        elif depth > 0:
            self.q: queue.Queue = queue.Queue(maxsize=depth)
            self.thread = threading.Thread(target=self._run, args=(make_steps(0, 1), pin), daemon=True)
            self.thread.start()
            self.items = self._from_thread()
        else:
            self.items = make_steps(0, 1)

    def __iter__(self):
        return self.items

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, steps, pin: bool):
        try:
            for mine, *rest in steps:
                if pin:
                    mine = [{k: _pinned(v) for k, v in b.items()} for b in mine]
                if not self._put(("item", (mine, *rest))):
                    return
            self._put(("end", None))
        except BaseException as e:  # hand the error to the training thread
            self._put(("error", e))

    def _from_thread(self):
        while True:
            kind, item = self.q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    def close(self) -> None:
        """Stop preparing steps (a stage that ends before its data does)."""
        self.stop.set()
        if hasattr(self, "thread"):
            self.thread.join()
        if self.loader is not None:
            del self.items  # shuts the worker processes down


# --- checkpoints ----------------------------------------------------------------------------------


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(folder: Path, module, optimizer, meta: dict, d: Dist, keep: int) -> None:
    """Model + optimizer (sharded by torch.distributed.checkpoint) and per-rank state, atomically."""
    tmp = folder.with_name(folder.name + ".tmp")
    if d.main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    d.barrier()
    model_sd, optim_sd = get_state_dict(module, optimizer)
    with _single_process_ok():
        dcp.save(
            {"model": model_sd, "optim": optim_sd}, checkpoint_id=str(tmp), no_dist=not dist.is_initialized()
        )
    torch.save({**meta, "rng": _rng_state()}, tmp / f"state-rank{d.rank}.pt")
    d.barrier()
    if d.main:
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        for old in sorted(folder.parent.glob("step-*"), key=_step_of)[: -keep or None]:
            if old != folder and not old.name.endswith(".tmp"):
                shutil.rmtree(old, ignore_errors=True)
    d.barrier()


@contextlib.contextmanager
def _single_process_ok():
    """torch.distributed.checkpoint warns when used without a process group, which is intended here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        yield


def _step_of(path: Path) -> int:
    try:
        return int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return -1


def latest_checkpoint(stage_dir: Path) -> Path | None:
    done = [p for p in (stage_dir / "checkpoints").glob("step-*") if not p.name.endswith(".tmp")]
    return max(done, key=_step_of) if done else None


def load_checkpoint(folder: Path, module, optimizer, d: Dist) -> dict:
    model_sd, optim_sd = get_state_dict(module, optimizer)
    state = {"model": model_sd, "optim": optim_sd}
    with _single_process_ok():
        dcp.load(state, checkpoint_id=str(folder), no_dist=not dist.is_initialized())
    set_state_dict(module, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    meta_path = folder / f"state-rank{d.rank}.pt"
    if not meta_path.exists():
        raise RuntimeError(f"{folder} was written by fewer processes; resume with the same number")
    meta = torch.load(meta_path, weights_only=False)
    if meta.get("world") != d.world:
        raise RuntimeError(
            f"{folder} was written by {meta.get('world')} processes, not {d.world}: the data "
            "order per process would differ; resume with the same number"
        )
    _set_rng_state(meta["rng"])
    return meta


def export_model(module, processor, path: Path, d: Dist) -> Path:
    """The final transformers checkpoint (full weights gathered from FSDP shards on rank 0)."""
    llava = unwrap(module).llava
    state = None
    if d.mode == "fsdp":
        full = get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        state = {k.removeprefix("llava."): v for k, v in full.items()}
    if d.main:
        tmp = path.with_name(path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_model(llava, processor, tmp, state_dict=state)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    d.barrier()
    return path


# --- one stage ------------------------------------------------------------------------------------


def _metrics_writer(path: Path | None):
    if path is None:
        return lambda record: None
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(record: dict) -> None:
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    return write


def _tokenizer_for_run(cfg: Config, out: Path, rows, d: Dist):
    """A trained tokenizer is trained once (rank 0), saved in OUTPUT/tokenizer, and reused on resume."""
    if cfg.model.tokenizer != "train":
        return None
    folder = out / "tokenizer"
    if d.main and not (folder / "tokenizer_config.json").exists():
        load_tokenizer(cfg.model, row_texts(rows, cfg.model.tokenizer_train_rows)).save_pretrained(folder)
    d.barrier()
    return AutoTokenizer.from_pretrained(folder)


@dataclass
class StageRun:
    """What `setup_stage` builds for one stage, and where its steps stand."""

    name: str
    stage: StageConfig
    stage_dir: Path
    source: str
    model: torch.nn.Module  # the transformers Llava model, inside `module`
    processor: object
    module: torch.nn.Module  # TrainModule(model), wrapped for DDP or FSDP2
    optimizer: torch.optim.Optimizer
    params: list[torch.nn.Parameter]  # the trained ones
    stream: BatchStream
    total: int  # optimiser steps of the stage
    epochs: float  # inf when max_steps decides
    cast: torch.dtype | None  # autocast dtype
    step: int = 0
    tokens_seen: int = 0
    skipped: dict = field(default_factory=dict)  # reason -> rows skipped


def train_stage(
    cfg: Config, name: str, stage: StageConfig, d: Dist, init: Path | None, resume: bool
) -> Path | None:
    """One stage: setup (data, model, optimiser, resume) -> steps -> finish (merge LoRA, save).

    Returns the saved model's folder, or None when `train.stop_at` stopped it (a checkpoint holds it).
    """
    run = setup_stage(cfg, name, stage, d, init, resume)
    if not run_steps(cfg, run, d):
        return None
    return finish_stage(cfg, run, d)


def setup_stage(
    cfg: Config, name: str, stage: StageConfig, d: Dist, init: Path | None, resume: bool
) -> StageRun:
    """Rows, model (LoRA, trainable parameters), batch stream, step count, wrapped module, optimiser,
    and the state of the latest checkpoint when resuming."""
    out = Path(cfg.train.output)
    stage_dir = out / name
    source = stage.data or cfg.data.path
    if not source:
        raise ValueError(f"no data for stage {name}: pass --data or set data.path / {name}.data")
    rows = open_rows(source, cfg.data.split, cfg.data.streaming, cfg.data.image_folder)

    torch.manual_seed(cfg.train.seed)  # the same initial weights on every process and every run
    if init is not None:
        model, processor = load_model(init, dtype=torch.float32)
    else:
        model, processor = build_model(cfg.model, tokenizer=_tokenizer_for_run(cfg, out, rows, d))
    model.train()
    if stage.lora_r:  # settings checked by check_lora before any stage ran
        add_lora(model, stage.lora_r, stage.lora_alpha, stage.lora_dropout, stage.lora_targets)
    trained = set_trainable(model, name)
    if cfg.train.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # the name in newer transformers 5.x
            model.activation_checkpointing_enable({"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.data.packing:
        check_packing(model)

    encoder = Encoder(processor, cfg.data.max_length)
    stream = BatchStream(
        rows,
        encoder,
        stage.batch_size,
        seed=cfg.train.seed,
        group_by_length=cfg.data.group_by_length,
        group_chunk=cfg.data.group_chunk,
        packing=cfg.data.packing,
        shuffle_buffer=cfg.data.shuffle_buffer,
    )
    per_epoch = stream.estimate_micro_batches_per_epoch()
    if stage.max_steps:
        total = stage.max_steps
    elif per_epoch is None:
        raise ValueError(f"{source} is streamed (no length): set {name}.max_steps")
    else:
        total = max(1, math.ceil(stage.epochs * per_epoch / (d.world * stage.grad_accum)))
    epochs = stage.epochs if not stage.max_steps else float("inf")

    cast = autocast_dtype(cfg, d.device)
    module = wrap(TrainModule(model), d, cast)
    params = [p for p in module.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": stage.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=stage.lr,
        betas=tuple(cfg.train.adam_betas),
        eps=cfg.train.adam_eps,
        fused=(d.device.type == "cuda" and d.mode != "fsdp") or None,  # FSDP: foreach over DTensors
    )
    run = StageRun(
        name,
        stage,
        stage_dir,
        source,
        model,
        processor,
        module,
        optimizer,
        params,
        stream,
        total,
        epochs,
        cast,
    )

    ckpt = latest_checkpoint(stage_dir) if resume else None
    if ckpt is not None:
        meta = load_checkpoint(ckpt, module, optimizer, d)
        run.step, run.tokens_seen = meta["step"], meta["tokens_seen"]
        stream.state, stream.skipped = StreamState(**meta["stream"]), type(stream.skipped)(meta["skipped"])
        if d.main:
            log.info("resumed %s from %s (step %d)", name, ckpt, run.step)
    if d.main:
        stage_dir.mkdir(parents=True, exist_ok=True)
        log.info(
            "stage %s: %s; %d trained tensors; %d steps of %d x %d x %d rows; data %s",
            name,
            describe(model),
            len(trained),
            total,
            d.world,
            stage.grad_accum,
            stage.batch_size,
            source,
        )
    return run


@dataclass
class _Window:
    """What happened since the last log line: summed loss (a device tensor), tokens, FLOPs, start time."""

    loss: torch.Tensor
    tokens: int = 0
    flops: float = 0.0
    start: float = field(default_factory=time.perf_counter)

    def reset(self) -> None:
        self.loss.zero_()
        self.tokens, self.flops, self.start = 0, 0.0, time.perf_counter()


def run_steps(cfg: Config, run: StageRun, d: Dist) -> bool:
    """The optimiser steps of the stage, from `run.step` on; False when `train.stop_at` stopped them."""
    stage, name, total = run.stage, run.name, run.total
    flops_of = flop_counter(run.model, name, lora=bool(stage.lora_r))
    peak = peak_flops(cfg, d.device)
    metrics = _metrics_writer(run.stage_dir / "metrics.jsonl" if cfg.train.metrics_file and d.main else None)
    bar = None
    if cfg.train.progress and d.main:
        # a bar on a terminal; in a log file (no terminal) a line per log step instead
        bar = tqdm(total=total, initial=run.step, desc=name, unit="step", dynamic_ncols=True, disable=None)

    def make_steps(worker: int, workers: int):
        return step_batches(
            run.stream,
            d,
            stage.grad_accum,
            run.epochs,
            run.processor,
            cfg.data.packing,
            cfg.data.pad_to_multiple_of,
            worker,
            workers,
        )

    batches = StepLoader(make_steps, cfg.data.workers, cfg.data.prefetch, pin=d.device.type == "cuda")
    cast = run.cast
    autocast = (lambda: torch.autocast(d.device.type, dtype=cast)) if cast else contextlib.nullcontext
    window = _Window(torch.zeros((), device=d.device))
    t_start = time.perf_counter()
    stop_at = cfg.train.stop_at
    first_step = run.step
    state_after, skipped = run.stream.state, dict(run.stream.skipped)
    grad_norm = torch.zeros(())

    for micro_batches, step_tokens, state_after, skipped in batches:
        if run.step >= total:
            break
        lr = lr_at(run.step, total, stage)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        n_targets = float(sum(b["n_targets"] for b in micro_batches))
        if d.world > 1:  # the step's learned tokens on all ranks: the loss denominator
            n_targets = torch.tensor(n_targets, device=d.device)
            dist.all_reduce(n_targets)
            scale = d.world / n_targets.clamp(min=1.0)  # DDP/FSDP average gradients over ranks; undo that
        else:
            scale = 1.0 / max(n_targets, 1.0)  # a host number: no device traffic
        for i, b in enumerate(micro_batches):
            last = i == len(micro_batches) - 1
            with _grad_sync(run.module, d, last):
                with autocast():
                    loss_sum = run.module(**_to_device(b, d.device))
                (loss_sum * scale).backward()
            window.loss += loss_sum.detach() * (scale / d.world)
            window.flops += flops_of(b)
            for problem in b["problems"]:
                log.warning("%s", problem)
        if cfg.train.grad_clip > 0:
            grad_norm = torch.nn.utils.clip_grad_norm_(run.params, cfg.train.grad_clip)
        run.optimizer.step()
        run.optimizer.zero_grad(set_to_none=True)
        run.step += 1
        run.tokens_seen += step_tokens
        window.tokens += step_tokens
        if bar is not None:
            bar.update(1)

        if run.step % cfg.train.log_every == 0 or run.step == total:
            now = time.perf_counter()
            epoch = run.stream.epoch_progress(state_after)
            record = _step_record(cfg, run, d, window, lr, grad_norm, epoch, now)
            record["elapsed_s"] = round(now - t_start, 2)
            if peak:
                record["mfu"] = round(window.flops / (now - window.start) / peak, 4)  # rank 0, as nanoGPT
            metrics(record)
            _show(bar, record, name, total, first_step, t_start)
            window.reset()

        stopping = stop_at is not None and run.step >= stop_at and run.step < total
        if run.step < total and ((stage.save_every and run.step % stage.save_every == 0) or stopping):
            _save(cfg, run, d, state_after, skipped)
        if stopping:
            batches.close()
            if bar is not None:
                bar.close()
            if d.main:
                log.info("stopped at step %d of %d (train.stop_at); continue with --resume", run.step, total)
            return False

    batches.close()
    if bar is not None:
        bar.close()
    run.skipped = skipped
    return True


def _step_record(
    cfg: Config, run: StageRun, d: Dist, window: _Window, lr: float, grad_norm, epoch: float, now: float
) -> dict:
    """The metrics.jsonl line of a log step (loss: the mean over the window's steps, all ranks)."""
    if d.world > 1:
        dist.all_reduce(window.loss)
    steps_in_window = run.step % cfg.train.log_every or cfg.train.log_every
    norm = grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm  # FSDP: a DTensor
    return {
        "stage": run.name,
        "step": run.step,
        "tokens": run.tokens_seen,
        "loss": window.loss.item() / steps_in_window,
        "lr": lr,
        "grad_norm": float(norm),
        "tokens_per_s": round(window.tokens / (now - window.start), 1),
        "epoch": round(epoch, 4),
    }


def _show(bar, record: dict, name: str, total: int, first_step: int, t_start: float) -> None:
    """The log step on the terminal: the bar's postfix, or (no terminal) a log line with an ETA."""
    mfu = {"mfu": f"{record['mfu']:.1%}"} if "mfu" in record else {}
    if bar is not None and not bar.disable:
        bar.set_postfix(
            loss=f"{record['loss']:.4f}",
            lr=f"{record['lr']:.2e}",
            tok_s=f"{record['tokens_per_s']:.0f}",
            **mfu,
        )
    elif bar is not None:
        step = record["step"]
        eta = (total - step) * (time.perf_counter() - t_start) / max(1, step - first_step)
        log.info(
            "%s step %d/%d loss %.4f lr %.2e %.0f tokens/s%s eta %s",
            name,
            step,
            total,
            record["loss"],
            record["lr"],
            record["tokens_per_s"],
            f" mfu {mfu['mfu']}" if mfu else "",
            time.strftime("%H:%M:%S", time.gmtime(eta)),
        )


def _save(cfg: Config, run: StageRun, d: Dist, state_after: StreamState, skipped: dict) -> None:
    """A resumable checkpoint at `run.step`: weights, optimiser and the data position after the step."""
    meta = {
        "step": run.step,
        "tokens_seen": run.tokens_seen,
        "stream": asdict(state_after),
        "skipped": skipped,
        "world": d.world,
        "stage": run.name,
    }
    save_checkpoint(
        run.stage_dir / "checkpoints" / f"step-{run.step:07d}",
        run.module,
        run.optimizer,
        meta,
        d,
        cfg.train.keep_checkpoints,
    )


def finish_stage(cfg: Config, run: StageRun, d: Dist) -> Path:
    """Report skipped rows, merge LoRA adapters, save the model, and mark the stage done."""
    name, skipped = run.name, run.skipped
    if skipped and d.main:
        log.warning(
            "stage %s skipped rows: %s", name, ", ".join(f"{n} x {r}" for r, n in sorted(skipped.items()))
        )
    path = run.stage_dir / "model"
    if run.stage.lora_r:
        merge_lora(unwrap(run.module).llava)  # the saved model is a plain transformers model
    if cfg.train.save_model or name != stages_last(cfg):
        export_model(run.module, run.processor, path, d)
    if d.main:
        done = {"steps": run.step, "tokens": run.tokens_seen, "skipped": skipped}
        (run.stage_dir / "done.json").write_text(json.dumps(done))
        log.info(
            "stage %s done: %d steps, %d tokens; model saved to %s", name, run.step, run.tokens_seen, path
        )
    return path


def stages_last(cfg: Config) -> str:
    return cfg.stages()[-1][0]


def _grad_sync(module, d: Dist, sync: bool):
    """Gradient communication only on the last micro-batch of a step."""
    if d.mode == "ddp" and not sync:
        return module.no_sync()
    if d.mode == "fsdp":
        module.set_requires_gradient_sync(sync)
    return contextlib.nullcontext()


def check_lora(cfg: Config, d: Dist) -> None:
    """Refuse LoRA settings that cannot work, before a stage spends hours on the way to them."""
    for name, stage in cfg.stages():
        if stage.lora_r and name != "instruct":
            raise ValueError(f"{name}.lora_r: LoRA adapts the LLM, which only the instruct stage trains")
        if stage.lora_r and d.mode == "fsdp":
            raise ValueError(
                "LoRA with FSDP is not supported: the frozen LLM is not sharded usefully; "
                "use train.parallel=ddp (a 13B model in bf16 fits one 80 GB GPU with LoRA)"
            )


def check_packing(model) -> None:
    """Refuse packing unless packed rows give the same hidden states as separate rows (this model)."""
    model_was_training = model.training
    model.eval()
    vocab = model.config.text_config.vocab_size
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, vocab, (1, 7), generator=g), torch.randint(0, vocab, (1, 5), generator=g)
    a[a == model.config.image_token_id] = 0
    b[b == model.config.image_token_id] = 0
    with torch.no_grad():
        ha = model.model(input_ids=a, attention_mask=torch.ones_like(a), use_cache=False).last_hidden_state
        hb = model.model(input_ids=b, attention_mask=torch.ones_like(b), use_cache=False).last_hidden_state
        packed = torch.cat([a, b], dim=1)
        positions = torch.cat([torch.arange(7), torch.arange(5)])[None]
        # no cache and no attention mask: what the training forward does with packed rows
        hp = model.model(input_ids=packed, position_ids=positions, use_cache=False).last_hidden_state
    model.train(model_was_training)
    if not torch.allclose(hp, torch.cat([ha, hb], dim=1), atol=1e-4, rtol=1e-3):
        raise ValueError(
            "packing is not exact for this model and attention implementation (packed rows "
            "would attend across samples); set data.packing=false"
        )


# --- the whole run --------------------------------------------------------------------------------


def finetune(cfg: Config, resume: bool = False) -> Path | None:
    """Run every enabled stage; returns the folder of the final model (None if stopped early)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    d = setup_distributed(cfg.train.parallel)
    out = Path(cfg.train.output)
    stages = cfg.stages()
    if not stages:
        raise ValueError("no stage enabled: set align.enabled or instruct.enabled")
    check_lora(cfg, d)
    if not resume and any((out / name).exists() for name, _ in stages):  # every rank sees the same folder
        raise FileExistsError(f"{out} already holds a run: pass --resume to continue it, or another --output")
    if d.main:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "config.yaml")
    d.barrier()
    init = Path(cfg.model.init_from) if cfg.model.init_from else None
    path = None
    for name, stage in stages:
        if (out / name / "done.json").exists():
            path = init = out / name / "model"
            continue
        path = train_stage(cfg, name, stage, d, init, resume)
        if path is None:
            return None
        init = path
    return path


def close_distributed() -> None:
    """Leave the process group (end of a torchrun process; `finetune` keeps it for further calls)."""
    if dist.is_initialized():
        dist.destroy_process_group()
