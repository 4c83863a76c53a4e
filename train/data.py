"""Rows -> token batches: reading, exact label masks, length grouping, packing and collation.

The flow, one stage each:

1. `open_rows(path)` reads `instructions` rows (a scitune OUT folder, Parquet files, a Hub dataset
   id, streamed when asked) or LLaVA conversation JSON, as dicts `{id, messages, images}`. Message
   content may be a string with `<image>` (schema version 1) or a list of parts (version 2).
2. `Encoder.encode(row)` renders the conversation with the model's chat template turn by turn and
   tokenizes each prefix; every turn's tokens must extend the previous prefix exactly (else the
   row is refused, never mis-masked). Prompt turns, image tokens and padding are -100 in the
   labels; assistant turns are learned. Each `<image>` becomes as many image tokens as the
   processor expands it into, and no sequence is cut inside an image span.
3. `BatchStream` turns a deterministic, seeded order of rows into micro-batches: chunks of rows,
   sorted by length inside a chunk (less padding), micro-batches shuffled, optionally packed. Its
   position `(epoch, chunk, micro-batch)` is the data state a checkpoint stores for exact resume.
4. `collate` pads on the right (masks from lengths, so pad may equal eos) or lays packed rows out
   with restarting position ids, and runs the image processor.

Rows that cannot be used are counted by reason (`BatchStream.skipped`, first epoch) and reported;
they never stop a run.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from PIL import Image

from ..schemas import IMAGE_TOKEN, content_text
from .model import image_seq_length

log = logging.getLogger(__name__)

IGNORE = -100
LLAVA_ROLES = {
    "human": "user",
    "gpt": "assistant",
    "system": "system",
    "user": "user",
    "assistant": "assistant",
}


# --- 1. rows --------------------------------------------------------------------------------------


class LlavaJsonRows:
    """LLaVA conversation JSON (`[{"id", "image", "conversations": [{"from", "value"}]}]`) as rows.

    Images are read from `image_folder` when a row is used. A row with an image but no `<image>`
    tag gets one at the start of its first human turn, as LLaVA's own loader does.
    """

    def __init__(self, path: Path, image_folder: Path | None = None):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            self.records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            self.records = json.loads(text)
        self.image_folder = image_folder or self._default_folder(path)

    def _default_folder(self, path: Path) -> Path:
        """LLaVA's --image_folder when none is given: beside the JSON, or the `images/` folder that
        `scitune-curate export llava` writes beside it (where the records' file names are found)."""
        first = next((r["image"] for r in self.records if isinstance(r.get("image"), str)), None)
        beside = path.parent / "images"
        if first and not (path.parent / first).exists() and (beside / first).is_file():
            return beside
        return path.parent

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        rec = self.records[i]
        image = rec.get("image")
        paths = [] if image is None else [image] if isinstance(image, str) else list(image)
        messages = [
            {"role": LLAVA_ROLES.get(t.get("from"), t.get("from")), "content": t.get("value") or ""}
            for t in rec.get("conversations", [])
        ]
        if paths and not any(IMAGE_TOKEN in m["content"] for m in messages if m["role"] == "user"):
            first = next((m for m in messages if m["role"] == "user"), None)
            if first is not None:
                first["content"] = IMAGE_TOKEN + "\n" + first["content"]
        images = [{"bytes": None, "path": str(self.image_folder / p)} for p in paths]
        return {"id": str(rec.get("id", i)), "messages": messages, "images": images}


def _instruction_files(path: Path) -> list[str]:
    if path.is_file():
        return [str(path)]
    # an OUT folder, a `scitune-curate export messages` folder (data/), or a folder of shards
    folder = next((path / sub for sub in ("instructions", "data") if (path / sub).is_dir()), path)
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"no Parquet shards in {folder}: is it an OUT folder with instructions/ "
            f"(run `scitune-curate instructions OUT`)?"
        )
    return files


def open_rows(source: str, split: str = "train", streaming: bool = False, image_folder: str | None = None):
    """The rows of `source`: indexable (map-style) or, when streaming, a `datasets.IterableDataset`.

    `source` is an OUT folder (its `instructions/*.parquet`), a folder of Parquet shards, one Parquet
    file, a LLaVA `.json`/`.jsonl` file, or a Hub dataset id (config `instructions`).
    """
    path = Path(source)
    if path.suffix in (".json", ".jsonl") and path.is_file():
        if streaming:
            log.warning("%s: LLaVA JSON is read whole; streaming ignored", path)
        return LlavaJsonRows(path, Path(image_folder) if image_folder else None)
    if path.exists():
        ds = datasets.load_dataset(
            "parquet", data_files={split: _instruction_files(path)}, split=split, streaming=streaming
        )
    else:
        ds = datasets.load_dataset(source, "instructions", split=split, streaming=streaming)
    if "images" in (ds.features or {}):
        # Keep images as bytes until a batch needs them: all processes read every row's text, but
        # each decodes only the images of its own micro-batches.
        ds = ds.cast_column("images", datasets.List(datasets.Image(decode=False)))
    return ds


def row_texts(rows, limit: int):
    """The message texts of the first `limit` rows (to train a tokenizer)."""
    if hasattr(rows, "__getitem__"):
        iterator = (rows[i] for i in range(min(limit, len(rows))))
    else:
        iterator = iter(rows)
    for n, row in enumerate(iterator):
        if n >= limit:
            break
        for m in row["messages"]:
            yield content_text(m["content"], " ")


# --- 2. tokens and labels -------------------------------------------------------------------------


class TokenizationMismatch(ValueError):
    """A turn's tokens do not extend the previous prefix's tokens: the mask would be wrong."""


@dataclass
class Sample:
    id: str
    input_ids: np.ndarray  # int64
    labels: np.ndarray  # int64, IGNORE where not learned
    images: list  # [{"bytes", "path"}], one per image span

    def __len__(self) -> int:
        return len(self.input_ids)


class Skip(Exception):
    """A row that cannot be trained on; the message is the reason counted in the report."""


def _render(tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def encode_messages(tokenizer, messages: list[dict]) -> tuple[list[int], list[bool]]:
    """Token ids and a learned-mask of a conversation, turn by turn through the chat template.

    The prefix up to each turn is rendered (prompt turns with the generation prompt when the
    assistant answers next) and tokenized in full; the turn's tokens are what it adds to the
    previous prefix. A prefix that is not extended exactly raises `TokenizationMismatch`.
    """
    ids: list[int] = []
    learned: list[bool] = []
    text = ""
    for i, message in enumerate(messages):
        is_answer = message["role"] == "assistant"
        prompt_next = not is_answer and i + 1 < len(messages) and messages[i + 1]["role"] == "assistant"
        text = _render(tokenizer, messages[: i + 1], generation_prompt=prompt_next)
        turn_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if turn_ids[: len(ids)] != ids:
            at = next(k for k, (a, b) in enumerate(zip(ids, turn_ids + [None] * len(ids))) if a != b)
            raise TokenizationMismatch(
                f"turn {i} ({message['role']}) changes earlier tokens at position {at}: "
                f"{tokenizer.decode(ids[max(0, at - 3) : at + 3])!r} became "
                f"{tokenizer.decode(turn_ids[max(0, at - 3) : at + 3])!r}. The chat template or the "
                "tokenizer merges across turn boundaries; choose another model.chat_template"
            )
        learned += [is_answer] * (len(turn_ids) - len(ids))
        ids = turn_ids
    whole = _render(tokenizer, messages, generation_prompt=False)
    if whole != text and tokenizer(whole, add_special_tokens=False)["input_ids"] != ids:
        raise TokenizationMismatch("the turns' tokens do not add up to the whole conversation's tokens")
    return ids, learned


class Encoder:
    """Rows -> `Sample`s for one processor (its tokenizer, chat template and image expansion)."""

    def __init__(self, processor, max_length: int):
        self.tokenizer = processor.tokenizer
        self.image_token_id = processor.image_token_id
        self.n_image_tokens = image_seq_length(processor)
        self.max_length = max_length
        self.pad_id = self.tokenizer.pad_token_id

    def encode(self, row: dict) -> Sample:
        # Schema version 2 stores content parts, version 1 strings with `<image>`; our chat templates
        # take strings, so an image part becomes the `<image>` token where it stands.
        messages = [
            {"role": m["role"], "content": content_text(m["content"], IMAGE_TOKEN)} for m in row["messages"]
        ]
        if not any(m["role"] == "assistant" for m in messages):
            raise Skip("no assistant turn")
        if any(IMAGE_TOKEN in m["content"] for m in messages if m["role"] != "user"):
            raise Skip("<image> outside a user turn")
        images = list(row.get("images") or [])
        try:
            for image in images:
                _check_image(image)
        except Exception as e:
            raise Skip(f"unreadable image ({type(e).__name__})") from None
        try:
            ids, learned = encode_messages(self.tokenizer, messages)
        except TokenizationMismatch as e:
            raise Skip(f"tokenization mismatch: {e}") from None
        ids_a = np.asarray(ids, dtype=np.int64)
        learned_a = np.asarray(learned, dtype=bool)
        spans = np.flatnonzero(ids_a == self.image_token_id)
        if len(spans) != len(images):
            raise Skip(f"{len(spans)} <image> tags but {len(images)} images")
        if len(spans):
            # expand each <image> into the processor's number of image tokens
            repeat = np.ones(len(ids_a), dtype=np.int64)
            repeat[spans] = self.n_image_tokens
            ids_a, learned_a = np.repeat(ids_a, repeat), np.repeat(learned_a, repeat)
        labels = np.where(learned_a, ids_a, IGNORE)
        if len(ids_a) > self.max_length:
            image_end = np.flatnonzero(ids_a == self.image_token_id)
            if len(image_end) and image_end[-1] >= self.max_length:
                raise Skip("an image span does not fit in max_length")
            ids_a, labels = ids_a[: self.max_length], labels[: self.max_length]
        labels[0] = IGNORE  # nothing predicts a row's first token (matters when rows are packed)
        if not (labels != IGNORE).any():
            raise Skip("no target tokens within max_length")
        return Sample(id=str(row.get("id", "")), input_ids=ids_a, labels=labels, images=images)


# --- 3. micro-batches -----------------------------------------------------------------------------


@dataclass
class StreamState:
    """Where a `BatchStream` stands: the next micro-batch is `micro` of `chunk` in `epoch`."""

    epoch: int = 0
    chunk: int = 0
    micro: int = 0


def pack(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit-decreasing bins of row indices whose lengths add up to at most `capacity`."""
    bins: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: -lengths[k]):
        for b, free in enumerate(room):
            if lengths[i] <= free:
                bins[b].append(i)
                room[b] -= lengths[i]
                break
        else:
            bins.append([i])
            room.append(capacity - lengths[i])
    return bins


class BatchStream:
    """Deterministic micro-batches (lists of `Sample`s, or of packed rows) from a seeded row order.

    Every process builds the same stream; the training loop hands micro-batch j of a step to rank
    j % world_size. Rows are read in chunks of `batch_size * group_chunk`; a chunk is encoded,
    sorted by length (when grouping), cut into micro-batches, and the micro-batches are shuffled.
    The order depends only on (seed, epoch, chunk), so a `StreamState` is enough to resume.
    """

    def __init__(
        self,
        rows,
        encoder: Encoder,
        batch_size: int,
        seed: int = 0,
        group_by_length: bool = True,
        group_chunk: int = 64,
        packing: bool = False,
        shuffle_buffer: int = 10000,
        state: StreamState | None = None,
        skipped: dict | None = None,
    ):
        self.rows, self.encoder, self.batch_size, self.seed = rows, encoder, batch_size, seed
        self.group_by_length, self.packing = group_by_length, packing
        self.chunk_rows = batch_size * max(1, group_chunk)
        self.shuffle_buffer = shuffle_buffer
        self.state = state or StreamState()
        self.skipped: Counter = Counter(skipped or {})
        self._order = None  # (epoch, permutation) of an indexable dataset
        self._live = None  # (epoch, next chunk, iterator) of a streamed one

    @property
    def num_rows(self) -> int | None:
        return len(self.rows) if hasattr(self.rows, "__len__") and hasattr(self.rows, "__getitem__") else None

    def _chunk_rows(self, epoch: int, chunk: int) -> list[dict]:
        start, stop = chunk * self.chunk_rows, (chunk + 1) * self.chunk_rows
        if self.num_rows is not None:
            if self._order is None or self._order[0] != epoch:
                self._order = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.num_rows))
            return [self.rows[int(i)] for i in self._order[1][start:stop]]
        # A streamed dataset is read on from where the last chunk ended; only a resume skips ahead.
        if self._live is None or self._live[:2] != (epoch, chunk):
            ds = self.rows.shuffle(seed=self.seed, buffer_size=self.shuffle_buffer)
            ds.set_epoch(epoch)
            self._live = (epoch, chunk, iter(ds.skip(start) if start else ds))
        rows = list(itertools.islice(self._live[2], self.chunk_rows))
        self._live = (epoch, chunk + 1, self._live[2])
        return rows

    def _micro_batches(self, epoch: int, chunk: int, rows: list[dict]) -> list[list]:
        samples = []
        for row in rows:
            try:
                samples.append(self.encoder.encode(row))
            except Skip as e:
                if epoch > 0:  # the same rows fail every epoch: count them once
                    continue
                reason = str(e)
                if self.skipped[reason] == 0:
                    log.warning("skipping row %s: %s", row.get("id"), reason)
                self.skipped[reason] += 1
        rng = np.random.default_rng([self.seed, epoch, chunk, 1])
        if self.packing:
            bins = pack([len(s) for s in samples], self.encoder.max_length)
            units = [[samples[i] for i in b] for b in bins]  # each unit is one packed row
        else:
            units = samples
        if self.group_by_length:
            key = (lambda u: sum(len(s) for s in u)) if self.packing else len
            units = sorted(units, key=key, reverse=True)
        batches = [units[i : i + self.batch_size] for i in range(0, len(units), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self):
        """Yield `(micro_batch, state_after)` forever, epoch after epoch."""
        produced, whole_epoch = False, self.state.chunk == 0 and self.state.micro == 0

        def next_epoch(epoch: int) -> StreamState:
            nonlocal produced, whole_epoch
            if whole_epoch and not produced:  # would loop forever
                reasons = ", ".join(f"{n} x {r}" for r, n in self.skipped.items()) or "none"
                raise ValueError(f"no usable row in a whole epoch (skipped: {reasons})")
            produced, whole_epoch = False, True
            return StreamState(epoch + 1, 0, 0)

        while True:
            st = self.state
            rows = self._chunk_rows(st.epoch, st.chunk)
            if not rows:
                if st.chunk == 0:
                    raise ValueError("the dataset has no rows")
                self.state = next_epoch(st.epoch)
                continue
            batches = self._micro_batches(st.epoch, st.chunk, rows)
            last_chunk = len(rows) < self.chunk_rows or (
                self.num_rows is not None and (st.chunk + 1) * self.chunk_rows >= self.num_rows
            )
            for micro in range(st.micro, len(batches)):
                produced = True
                if micro + 1 < len(batches):
                    self.state = StreamState(st.epoch, st.chunk, micro + 1)
                elif last_chunk:
                    self.state = next_epoch(st.epoch)
                else:
                    self.state = StreamState(st.epoch, st.chunk + 1, 0)
                yield batches[micro], self.state
            if not batches:  # every row of the chunk was skipped
                self.state = next_epoch(st.epoch) if last_chunk else StreamState(st.epoch, st.chunk + 1, 0)

    def epoch_progress(self, state: StreamState) -> float:
        """Epochs done at `state` (fractional, by chunk), for logs and schedules."""
        if self.num_rows is None:
            return float(state.epoch)
        chunks = max(1, math.ceil(self.num_rows / self.chunk_rows))
        return state.epoch + min(state.chunk, chunks) / chunks

    def estimate_micro_batches_per_epoch(self, sample_chunks: int = 2) -> float | None:
        """Micro-batches in one epoch, estimated from the first chunks (exact without skips or packing)."""
        if self.num_rows is None:
            return None
        chunks = math.ceil(self.num_rows / self.chunk_rows)
        if not self.packing:
            return self.num_rows / self.batch_size
        skipped = Counter(self.skipped)
        per_row = []
        for c in range(min(sample_chunks, chunks)):
            rows = self._chunk_rows(0, c)
            per_row.append(len(self._micro_batches(0, c, rows)) / max(1, len(rows)))
        self.skipped = skipped  # the probe must not count rows twice
        return float(np.mean(per_row)) * self.num_rows


# --- 4. tensors -----------------------------------------------------------------------------------


def _load_image(image: dict):
    im = Image.open(io.BytesIO(image["bytes"])) if image.get("bytes") else Image.open(image["path"])
    return im.convert("RGB")


def _check_image(image: dict) -> None:
    """Cheap check (header only) that an image can be opened; full decoding waits for the batch."""
    Image.open(io.BytesIO(image["bytes"])) if image.get("bytes") else Image.open(image["path"])


def collate(
    units: list, pad_id: int, image_processor, packed: bool = False, pad_to_multiple_of: int = 1
) -> dict:
    """Tensors for one micro-batch: input_ids, labels, attention_mask or position_ids, pixel_values.

    Unpacked: right padding, the attention mask comes from the lengths. Packed: each unit is a list
    of samples laid end to end; position ids restart at every sample (and at the padding), which
    transformers turns into separate attention per sample; there is no attention mask.
    `labels` are the usual transformers labels (B, L); `target_ids` and `target_index` are the
    learned tokens and their flat positions in the shifted sequence (B, L-1), so the loss needs no
    device-side boolean indexing. Also returns host-side counts: `n_targets` (learned tokens),
    `n_tokens` (non-pad), `n_rows`, `seq_sq` (sum of squared sample lengths, for attention FLOPs) and
    `problems` (samples whose image failed to decode: they train nothing and are reported).
    """
    rows = [[u] for u in units] if not packed else units
    lengths = [sum(len(s) for s in row) for row in rows]
    width = math.ceil(max(lengths) / pad_to_multiple_of) * pad_to_multiple_of
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    labels = np.full((len(rows), width), IGNORE, dtype=np.int64)
    positions = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    images, problems = [], []
    for r, row in enumerate(rows):
        at = 0
        for s in row:
            n = len(s)
            ids[r, at : at + n] = s.input_ids
            labels[r, at : at + n] = s.labels
            positions[r, at : at + n] = np.arange(n)
            try:
                loaded = [_load_image(im) for im in s.images]
            except Exception as e:  # a corrupt image: keep the shapes, learn nothing from this row
                problems.append(f"{s.id}: image does not decode ({type(e).__name__}: {e})")
                labels[r, at : at + n] = IGNORE
                side = _processor_side(image_processor)
                loaded = [Image.new("RGB", (side, side)) for _ in s.images]
            images += loaded
            at += n
        mask[r, :at] = 1
        positions[r, at:] = np.arange(width - at)  # padding is its own sequence when packed
    shifted = labels[:, 1:]
    batch = {"input_ids": torch.from_numpy(ids), "labels": torch.from_numpy(labels)}
    batch["target_ids"] = torch.from_numpy(shifted[shifted != IGNORE])
    batch["target_index"] = torch.from_numpy(np.flatnonzero(shifted.reshape(-1) != IGNORE))
    if packed:
        batch["position_ids"] = torch.from_numpy(positions)
    else:
        batch["attention_mask"] = torch.from_numpy(mask)
    if images:
        batch["pixel_values"] = image_processor(images=images, return_tensors="pt")["pixel_values"]
    batch["n_targets"] = int(len(batch["target_ids"]))
    batch["n_tokens"] = int(sum(lengths))
    batch["n_rows"] = sum(len(row) for row in rows)
    batch["seq_sq"] = int(sum(len(s) ** 2 for row in rows for s in row))
    batch["problems"] = problems
    return batch


def _processor_side(image_processor) -> int:
    size = getattr(image_processor, "crop_size", None) or image_processor.size
    return int(size.get("height") or size.get("shortest_edge"))
