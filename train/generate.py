"""Batched, left-padded, deterministic decoding with a LLaVA-style checkpoint.

`load_checkpoint(path)` gives (model, processor); `generate(model, processor, requests, decoding)`
yields one `Generated` per request, in order: the text after the prompt, cut at the first stop string.
Greedy by default (the honest default for benchmarks: the same input gives the same output). Prompts are
wrapped in the checkpoint's chat template, as the trainer wrapped them.

A batch that fails is retried one request at a time, so one bad input becomes one error, not a lost batch.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from PIL import Image
from transformers.utils import logging as hf_logging

from .model import load_model


@dataclass
class Decoding:
    """How text is generated; written into every results file."""

    max_new_tokens: int | None = None  # None: the task's default (train/evaluate.py)
    batch_size: int = 8
    stop: tuple[str, ...] = ()
    do_sample: bool = False  # greedy unless asked otherwise
    temperature: float = 1.0  # only used when sampling
    seed: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        d["strategy"] = (
            f"sampling (temperature {self.temperature}, seed {self.seed})" if self.do_sample else "greedy"
        )
        return d


@dataclass
class Request:
    """One prompt (the user turn, `<image>` where the image goes) and its image, if any."""

    id: str
    prompt: str
    image: str | bytes | None = None


@dataclass
class Generated:
    id: str
    text: str | None  # None when generation failed
    error: str | None = None
    prompt: str = ""
    n_tokens: int = 0  # tokens generated before the end of the turn (pads not counted)


@dataclass
class Progress:
    """Counts, rate and ETA on stderr, at most every `every` seconds."""

    total: int | None
    label: str = "generate"
    every: float = 10.0
    done: int = 0
    start: float = field(default_factory=time.monotonic)
    last: float = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last < self.every and (self.total is None or self.done < self.total):
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate > 0 else ""
        of = f"/{self.total}" if self.total else ""
        print(f"[{self.label}] {self.done}{of} done, {rate:.2f}/s{eta}", file=sys.stderr, flush=True)


def load_checkpoint(path: str | Path):
    """(model, processor) from a checkpoint folder saved as a normal transformers model + processor."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"{path} has no config.json: pass a checkpoint folder written by `scitune-train finetune`"
        )
    hf_logging.disable_progress_bar()
    device = "cuda" if torch.cuda.is_available() else None
    return load_model(path, dtype=None if device else torch.float32, device=device)


def _template_owner(processor):
    """Who holds the chat template: the tokenizer (what the trainer renders with), else the processor."""
    tok = getattr(processor, "tokenizer", processor)
    if getattr(tok, "chat_template", None):
        return tok
    if getattr(processor, "chat_template", None):
        return processor
    return None


def render(processor, user_text: str) -> str:
    """The full prompt string: the user turn wrapped in the checkpoint's chat template, as in training."""
    owner = _template_owner(processor)
    if owner is None:
        return user_text  # no template: the raw user turn (recorded in the results as such)
    messages = [{"role": "user", "content": user_text}]
    return owner.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def chat_template_name(processor) -> str:
    owner = _template_owner(processor)
    if owner is None:
        return "none (raw user turn)"
    return (
        "tokenizer chat template"
        if owner is getattr(processor, "tokenizer", None)
        else "processor chat template"
    )


def _open_image(image: str | bytes):
    with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as im:
        return im.convert("RGB")


def _cut(text: str, stop: Iterable[str]) -> str:
    cut = len(text)
    for s in stop:
        at = text.find(s)
        if s and at >= 0:
            cut = min(cut, at)
    return text[:cut].strip()


def _run_batch(model, processor, batch: list[Request], decoding: Decoding) -> list[tuple[str, int]]:
    tok = processor.tokenizer
    tok.padding_side = "left"  # generation continues from the right end of every row
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    texts = [render(processor, r.prompt) for r in batch]
    images = [_open_image(r.image) for r in batch if r.image is not None]
    # The template already holds any BOS; the trainer tokenizes rendered text the same way.
    inputs = processor(
        text=texts, images=images or None, return_tensors="pt", padding=True, add_special_tokens=False
    )
    inputs = {k: v.to(model.device) for k, v in inputs.items()}
    if "pixel_values" in inputs:
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    kwargs = dict(
        max_new_tokens=decoding.max_new_tokens or 64,
        do_sample=decoding.do_sample,
        num_beams=1,
        pad_token_id=tok.pad_token_id,
    )
    if decoding.do_sample:
        torch.manual_seed(decoding.seed)
        kwargs["temperature"] = decoding.temperature
    else:
        # Clear sampling knobs a checkpoint's generation_config may carry, so greedy is plainly greedy.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if decoding.stop:
        kwargs.update(stop_strings=list(decoding.stop), tokenizer=tok)
    with torch.inference_mode():
        out = model.generate(**inputs, **kwargs)
    new = out[:, inputs["input_ids"].shape[1] :]
    counts = (new != tok.pad_token_id).sum(dim=1).tolist()
    return [
        (_cut(t, decoding.stop), n) for t, n in zip(tok.batch_decode(new, skip_special_tokens=True), counts)
    ]


def generate(
    model,
    processor,
    requests: Iterable[Request],
    decoding: Decoding,
    total: int | None = None,
    label: str = "generate",
) -> Iterator[Generated]:
    """One `Generated` per request, in order, `decoding.batch_size` at a time."""
    progress = Progress(total, label)
    batch: list[Request] = []

    def flush() -> Iterator[Generated]:
        try:
            texts = _run_batch(model, processor, batch, decoding)
            results = [Generated(r.id, t, prompt=r.prompt, n_tokens=n) for r, (t, n) in zip(batch, texts)]
        except Exception:  # isolate the request that broke the batch
            results = []
            for r in batch:
                try:
                    [(text, n)] = _run_batch(model, processor, [r], decoding)
                    results.append(Generated(r.id, text, prompt=r.prompt, n_tokens=n))
                except Exception as err:  # noqa: BLE001 - becomes an error record
                    results.append(Generated(r.id, None, f"{type(err).__name__}: {err}", prompt=r.prompt))
        progress.update(len(batch))
        return iter(results)

    for request in requests:
        batch.append(request)
        if len(batch) >= decoding.batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
