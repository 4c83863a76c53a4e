"""Rows -> samples -> micro-batches: image expansion, truncation, skips, order, resume, padding, packing."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from datasets import Features, Value
from PIL import Image
from train_fixtures import as_stored, draw, png, row, synthetic_rows, write_instructions

from scitune.schemas import INSTRUCTION_FEATURES
from scitune.train.config import load_config
from scitune.train.data import (
    IGNORE,
    BatchStream,
    Encoder,
    Skip,
    StreamState,
    collate,
    open_rows,
    pack,
)
from scitune.train.model import build_model

TEXTS = [r["messages"][1]["content"] for r in synthetic_rows(40)] * 3


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    return build_model(load_config("tiny-cpu").model, TEXTS)


@pytest.fixture(scope="module")
def rows():
    return synthetic_rows(24)


def test_image_tokens_are_expanded_exactly_as_the_processor_does(parts, rows):
    model, processor = parts
    enc = Encoder(processor, max_length=512)
    r = rows[0]
    sample = enc.encode(r)
    text = processor.apply_chat_template(r["messages"], tokenize=False)
    image = Image.open(__import__("io").BytesIO(r["images"][0]["bytes"]))
    expected = processor(text=text, images=image, return_tensors="pt")["input_ids"][0].tolist()
    assert sample.input_ids.tolist() == expected
    is_image = sample.input_ids == processor.image_token_id
    assert is_image.sum() == model.config.image_seq_length
    assert (sample.labels[is_image] == IGNORE).all()
    learned = sample.labels != IGNORE
    answer = r["messages"][1]["content"]
    assert processor.tokenizer.decode(sample.input_ids[learned]) == answer + "<|im_end|>\n"


def test_truncation_keeps_image_spans_whole(parts):
    _, processor = parts
    long_answer = "The flux rises with frequency. " * 40
    r = row("p/figure1", draw("line plot", "red", 5), "Describe the figure.", long_answer)
    sample = Encoder(processor, max_length=64).encode(r)
    assert len(sample) == 64 and (sample.labels != IGNORE).any()
    late_image = row("p/figure2", draw("line plot", "red", 5), "x " * 80 + "<image>", "Short.")
    late_image["messages"][0]["content"] = "word " * 80 + "<image>"
    with pytest.raises(Skip, match="image span"):
        Encoder(processor, max_length=64).encode(late_image)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda r: r["messages"].pop(), "no assistant turn"),
        (lambda r: r["images"].append(r["images"][0]), "1 <image> tags but 2 images"),
        (lambda r: r["images"].__setitem__(0, {"bytes": b"not an image", "path": None}), "unreadable image"),
        (lambda r: r["messages"][1].__setitem__("content", "See <image>"), "<image> outside a user turn"),
    ],
)
def test_unusable_rows_are_skipped_with_a_reason(parts, rows, change, reason):
    _, processor = parts
    r = json.loads(json.dumps(rows[1], default=lambda b: b.decode("latin1")))
    r["images"] = [dict(rows[1]["images"][0])]
    change(r)
    with pytest.raises(Skip, match=reason.replace("<", ".").replace(">", ".")):
        Encoder(processor, max_length=512).encode(r)


def test_stream_covers_every_row_once_per_epoch_and_resumes_exactly(parts, rows):
    _, processor = parts
    enc = Encoder(processor, max_length=512)

    def ids(stream, n):
        out = []
        for k, (micro, state) in enumerate(stream):
            out.append(([s.id for s in micro], state))
            if k + 1 == n:
                return out

    full = ids(BatchStream(rows, enc, batch_size=4, seed=3, group_chunk=2), 12)  # 2 epochs of 6 micro-batches
    first_epoch = sorted(i for batch, _ in full[:6] for i in batch)
    assert first_epoch == sorted(r["id"] for r in rows)
    assert [b for b, _ in full[:6]] != [b for b, _ in full[6:]]  # a new order each epoch
    assert full[5][1] == StreamState(1, 0, 0)
    again = ids(BatchStream(rows, enc, batch_size=4, seed=3, group_chunk=2), 12)
    assert again == full
    state = full[3][1]
    resumed = ids(BatchStream(rows, enc, batch_size=4, seed=3, group_chunk=2, state=state), 8)
    assert resumed == full[4:]


def test_length_grouping_cuts_padding(parts):
    _, processor = parts
    rng = np.random.default_rng(0)
    rows = [
        row(f"p/figure{i}", draw("bar chart", "blue", 4), "Describe.", "word " * int(rng.integers(1, 60)))
        for i in range(64)
    ]
    enc = Encoder(processor, max_length=512)

    def padding(group: bool) -> int:
        stream = BatchStream(rows, enc, batch_size=8, group_by_length=group, group_chunk=8)
        total = 0
        for k, (micro, _) in enumerate(stream):
            lengths = [len(s) for s in micro]
            total += max(lengths) * len(lengths) - sum(lengths)
            if k == 7:
                return total

    assert padding(True) < padding(False) / 3


def test_collate_pads_right_with_masks_from_lengths(parts, rows):
    _, processor = parts
    enc = Encoder(processor, max_length=512)
    samples = [enc.encode(r) for r in rows[:3]]
    pad = processor.tokenizer.pad_token_id
    assert pad == processor.tokenizer.eos_token_id  # pad == eos: masks must not come from ids
    b = collate(samples, pad, processor.image_processor, pad_to_multiple_of=8)
    assert b["input_ids"].shape[1] % 8 == 0
    for i, s in enumerate(samples):
        n = len(s)
        assert b["attention_mask"][i, :n].all() and not b["attention_mask"][i, n:].any()
        assert (b["input_ids"][i, :n].numpy() == s.input_ids).all()
        assert (b["labels"][i, n:] == IGNORE).all()
        real_pads = torch.from_numpy(s.input_ids == pad)  # the end-of-turn tokens inside the row
        assert real_pads.any() and b["attention_mask"][i, :n][real_pads].all()
    assert b["pixel_values"].shape[0] == 3
    shifted = b["labels"][:, 1:].reshape(-1)
    assert torch.equal(shifted[b["target_index"]], b["target_ids"])
    assert b["n_targets"] == (shifted != IGNORE).sum()


def test_collate_packs_with_restarting_positions(parts, rows):
    _, processor = parts
    enc = Encoder(processor, max_length=512)
    samples = [enc.encode(r) for r in rows[:3]]
    b = collate(
        [samples[:2], samples[2:]], processor.tokenizer.pad_token_id, processor.image_processor, packed=True
    )
    n0, n1 = len(samples[0]), len(samples[1])
    pos = b["position_ids"][0]
    assert pos[:n0].tolist() == list(range(n0)) and pos[n0 : n0 + n1].tolist() == list(range(n1))
    assert "attention_mask" not in b
    assert b["labels"][0, n0] == IGNORE  # a packed sample's first token is not predicted from the one before


def test_pack_fills_bins_within_capacity():
    lengths = [50, 40, 30, 30, 20, 10, 90, 5]
    bins = pack(lengths, 100)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 100 for b in bins)
    assert len(bins) == 3


def test_a_corrupt_image_trains_nothing_and_is_reported(parts, rows):
    _, processor = parts
    enc = Encoder(processor, max_length=512)
    good, bad = enc.encode(rows[0]), enc.encode(rows[1])
    broken = png(Image.new("RGB", (8, 8)))[:40]  # a PNG header whose data is cut off
    bad.images = [{"bytes": broken, "path": None}]
    b = collate([good, bad], processor.tokenizer.pad_token_id, processor.image_processor)
    assert len(b["problems"]) == 1 and bad.id in b["problems"][0]
    assert (b["labels"][1] == IGNORE).all() and (b["labels"][0] != IGNORE).any()
    assert b["pixel_values"].shape[0] == 2


def test_schema_version_1_and_2_rows_encode_the_same(parts, rows, tmp_path):
    """The reader takes v1 string content (`<image>` in the text) and v2 content parts alike."""
    _, processor = parts
    enc = Encoder(processor, max_length=512)
    write_instructions(tmp_path / "v2", rows[:3])
    stored = open_rows(str(tmp_path / "v2"))
    # a folder written by scitune 0.1 (schema version 1: string content), as datasets reads it back
    v1_features = Features(
        {**INSTRUCTION_FEATURES, "messages": [{"role": Value("string"), "content": Value("string")}]}
    )
    (tmp_path / "v1" / "instructions").mkdir(parents=True)
    encoded = [v1_features.encode_example(r) for r in rows[:3]]
    pq.write_table(
        pa.Table.from_pylist(encoded, schema=v1_features.arrow_schema),
        tmp_path / "v1" / "instructions" / "part-00000.parquet",
    )
    old = open_rows(str(tmp_path / "v1"))
    for i in range(3):
        v1, v2 = old[i], stored[i]
        assert isinstance(v1["messages"][0]["content"], str)
        assert isinstance(v2["messages"][0]["content"], list)
        a, b = enc.encode(v1), enc.encode(v2)
        assert a.input_ids.tolist() == b.input_ids.tolist() and a.labels.tolist() == b.labels.tolist()
        assert a.images[0]["bytes"] == b.images[0]["bytes"]
    mid = as_stored(row("p/figure9", draw("bar chart", "red", 3), "x", "A bar chart."))
    mid["messages"][0]["content"] = [
        {"type": "text", "text": "Before."},
        {"type": "image", "text": None},
        {"type": "text", "text": "After."},
    ]
    sample = enc.encode(mid)
    first_image = int(np.flatnonzero(sample.input_ids == processor.image_token_id)[0])
    before = processor.tokenizer.decode(sample.input_ids[:first_image])
    assert "Before." in before and "After." not in before  # the image stays where it sits


def test_reads_an_out_folder_and_llava_json(tmp_path, rows):
    write_instructions(tmp_path / "out", rows[:5])
    ds = open_rows(str(tmp_path / "out"))
    assert len(ds) == 5 and ds[0]["messages"][0]["content"][0] == {"type": "image", "text": None}
    assert ds[0]["images"][0]["bytes"].startswith(b"\x89PNG")

    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(draw("bar chart", "red", 3))
    records = [
        {
            "id": "q1",
            "image": "a.png",
            "conversations": [
                {"from": "human", "value": "What is shown?"},
                {"from": "gpt", "value": "A red bar chart."},
            ],
        },
        {"id": "q2", "conversations": [{"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}]},
    ]
    (tmp_path / "llava.json").write_text(json.dumps(records))
    rows_json = open_rows(str(tmp_path / "llava.json"), image_folder=str(tmp_path / "img"))
    first = rows_json[0]
    assert first["messages"] == [
        {"role": "user", "content": "<image>\nWhat is shown?"},
        {"role": "assistant", "content": "A red bar chart."},
    ]
    assert first["images"][0]["path"].endswith("img/a.png")
    assert rows_json[1]["images"] == []
    (tmp_path / "img").rename(tmp_path / "images")  # the layout of `scitune-curate export llava`
    assert open_rows(str(tmp_path / "llava.json"))[0]["images"][0]["path"] == str(
        tmp_path / "images" / "a.png"
    )


def test_a_streamed_dataset_is_read_once_per_epoch_and_resumes(parts, rows, tmp_path, monkeypatch):
    import datasets

    # datasets sleeps 5 s whenever a streamed shard iterator closes (an Arrow shutdown workaround)
    monkeypatch.setattr(datasets.config, "SLEEP_TIME_ON_THREADS_SHUTDOWN", 0)
    _, processor = parts
    write_instructions(tmp_path / "out", rows)
    streamed = open_rows(str(tmp_path / "out"), streaming=True)
    assert not hasattr(streamed, "__len__") or not hasattr(streamed, "__getitem__")
    enc = Encoder(processor, max_length=512)

    def take(stream, n):
        out = []
        for micro, state in stream:
            out.append(([s.id for s in micro], state))
            if len(out) == n:
                return out

    full = take(BatchStream(streamed, enc, batch_size=4, seed=1, group_chunk=2, shuffle_buffer=8), 7)
    assert sorted(i for ids, _ in full[:6] for i in ids) == sorted(r["id"] for r in rows)
    assert full[6][1] == StreamState(1, 0, 1)  # the 7th micro-batch opens the second epoch
    resumed = take(
        BatchStream(streamed, enc, batch_size=4, seed=1, group_chunk=2, shuffle_buffer=8, state=full[1][1]), 3
    )
    assert resumed == full[2:5]


def test_a_dataset_without_a_usable_row_stops_with_the_reasons(parts, rows):
    _, processor = parts
    unusable = [dict(r, messages=r["messages"][:1]) for r in rows[:6]]  # no assistant turns
    stream = BatchStream(unusable, Encoder(processor, max_length=512), batch_size=2, group_chunk=2)
    with pytest.raises(ValueError, match="6 x no assistant turn"):
        next(iter(stream))
