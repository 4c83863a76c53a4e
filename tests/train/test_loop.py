"""The training loop end to end: overfitting, exact resume, loss normalisation, DDP and FSDP2 on CPU."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from train_fixtures import synthetic_rows, write_instructions

from scitune.train.config import StageConfig, load_config
from scitune.train.data import Encoder, collate
from scitune.train.loop import TrainModule, check_packing, finetune, lr_at
from scitune.train.model import build_model, load_model

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def data16(tmp_path_factory):
    return write_instructions(tmp_path_factory.mktemp("synth16"), synthetic_rows(16))


def texts(rows: list[dict]) -> list[str]:
    return [r["messages"][1]["content"] for r in rows] * 5


def weights(run: Path) -> dict:
    return load_file(str(run / "instruct" / "model" / "model.safetensors"))


def greedy(model, processor, r) -> str:
    text = processor.apply_chat_template(r["messages"][:1], tokenize=False, add_generation_prompt=True)
    image = Image.open(io.BytesIO(r["images"][0]["bytes"]))
    inputs = processor(text=text, images=image, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=40, do_sample=False)
    return processor.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def test_tiny_model_overfits_and_reproduces_captions(data16, tmp_path):
    cfg = load_config(
        "tiny-cpu",
        [
            f"data.path={data16}",
            f"train.output={tmp_path / 'run'}",
            "train.progress=false",
            "instruct.max_steps=100",
            "instruct.batch_size=16",
            "train.log_every=20",
        ],
    )
    path = finetune(cfg)
    last = [line for line in (tmp_path / "run" / "instruct" / "metrics.jsonl").read_text().splitlines()][-1]
    assert json.loads(last)["loss"] < 0.05
    model, processor = load_model(path)
    rows = synthetic_rows(16)
    exact = sum(greedy(model, processor, r) == r["messages"][1]["content"] for r in rows)
    assert exact >= 12, f"only {exact} of 16 captions reproduced"


def test_resume_matches_an_uninterrupted_run(data16, tmp_path):
    common = [
        f"data.path={data16}",
        "train.progress=false",
        "instruct.max_steps=8",
        "instruct.batch_size=4",
        "instruct.grad_accum=2",
        "data.group_chunk=2",
        "train.log_every=4",
    ]
    finetune(load_config("tiny-cpu", common + [f"train.output={tmp_path / 'a'}"]))
    interrupted = common + [f"train.output={tmp_path / 'b'}"]
    assert finetune(load_config("tiny-cpu", interrupted + ["train.stop_at=3"])) is None
    assert (tmp_path / "b" / "instruct" / "checkpoints" / "step-0000003").is_dir()
    with pytest.raises(FileExistsError):
        finetune(load_config("tiny-cpu", interrupted))
    finetune(load_config("tiny-cpu", interrupted), resume=True)
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_worker_processes_feed_the_same_batches_as_the_thread(data16, tmp_path):
    common = [
        f"data.path={data16}",
        "train.progress=false",
        "instruct.max_steps=6",
        "instruct.batch_size=4",
        "data.group_chunk=2",
        "train.log_every=2",
    ]
    finetune(load_config("tiny-cpu", common + [f"train.output={tmp_path / 'thread'}", "data.workers=0"]))
    finetune(load_config("tiny-cpu", common + [f"train.output={tmp_path / 'procs'}", "data.workers=2"]))
    a, b = weights(tmp_path / "thread"), weights(tmp_path / "procs")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_gradient_checkpointing_changes_memory_not_results(data16, tmp_path):
    common = [f"data.path={data16}", "train.progress=false", "instruct.max_steps=3", "instruct.batch_size=4"]
    finetune(load_config("tiny-cpu", common + [f"train.output={tmp_path / 'plain'}"]))
    finetune(
        load_config(
            "tiny-cpu", common + [f"train.output={tmp_path / 'ckpt'}", "train.gradient_checkpointing=true"]
        )
    )
    a, b = weights(tmp_path / "plain"), weights(tmp_path / "ckpt")
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_loss_is_normalised_by_the_target_tokens_of_the_whole_step():
    """Two micro-batches with different target counts give the gradient of the mean over all their
    target tokens: what transformers' own loss gives on the whole batch at once."""
    rows = synthetic_rows(4)
    rows[0]["messages"][1]["content"] = "A much longer caption that has many more target tokens than others."
    torch.manual_seed(0)
    model, processor = build_model(load_config("tiny-cpu").model, texts(rows))
    enc = Encoder(processor, 512)
    samples = [enc.encode(r) for r in rows]
    pad = processor.tokenizer.pad_token_id

    def fields(b):
        return {k: b[k] for k in ("input_ids", "attention_mask", "pixel_values")}

    whole = collate(samples, pad, processor.image_processor)
    model.zero_grad()
    model(**fields(whole), labels=whole["labels"]).loss.backward()
    reference = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    model.zero_grad()
    module = TrainModule(model)
    micro = [collate(part, pad, processor.image_processor) for part in (samples[:1], samples[1:])]
    assert micro[0]["n_targets"] != micro[1]["n_targets"] / 3
    total = sum(b["n_targets"] for b in micro)
    for b in micro:
        loss = module(**fields(b), target_ids=b["target_ids"], target_index=b["target_index"])
        (loss / total).backward()
    for n, g in reference.items():
        assert torch.allclose(dict(model.named_parameters())[n].grad, g, atol=1e-6, rtol=1e-4), n


def test_packed_rows_give_the_same_loss_as_separate_rows():
    rows = synthetic_rows(4)
    torch.manual_seed(0)
    model, processor = build_model(load_config("tiny-cpu").model, texts(rows))
    check_packing(model)
    enc = Encoder(processor, 512)
    samples = [enc.encode(r) for r in rows]
    pad, ip = processor.tokenizer.pad_token_id, processor.image_processor
    module = TrainModule(model).eval()
    keys = ("input_ids", "attention_mask", "position_ids", "pixel_values", "target_ids", "target_index")
    with torch.no_grad():
        plain = collate(samples, pad, ip)
        packed = collate([samples[:3], samples[3:]], pad, ip, packed=True)
        assert packed["n_targets"] == plain["n_targets"]
        a = module(**{k: plain[k] for k in keys if k in plain})
        b = module(**{k: packed[k] for k in keys if k in packed})
    assert torch.allclose(a, b, rtol=1e-5)


def test_schedule_warms_up_then_decays_to_the_floor():
    stage = StageConfig(lr=1e-3, warmup_ratio=0.1, min_lr_ratio=0.1)
    lrs = [lr_at(s, 100, stage) for s in range(100)]
    assert lrs[0] < lrs[5] < lrs[9] <= 1e-3
    assert max(lrs) == pytest.approx(1e-3, rel=1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lr_at(100, 100, stage) == pytest.approx(1e-4)


def test_ddp_and_fsdp2_match_one_process_with_accumulation(data16, tmp_path):
    """2 CPU processes (gloo) x 1 micro-batch == 1 process x 2 micro-batches, for DDP, for FSDP2
    (stopped and resumed through sharded checkpoints) and for DDP with LoRA."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_PORT="29533")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29533",
        str(HERE / "dist_runs.py"),
        str(data16),
        str(tmp_path),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both workers
        _, stderr = proc.communicate()
        pytest.fail(f"distributed run hung: {stderr[-3000:]}")
    assert proc.returncode == 0, stderr[-3000:]
    single_args = [
        f"data.path={data16}",
        "train.progress=false",
        "instruct.max_steps=4",
        "instruct.batch_size=4",
        "instruct.grad_accum=2",
        "data.group_chunk=2",
        "data.prefetch=0",
    ]
    single = load_config("tiny-cpu", single_args + [f"train.output={tmp_path / 'single'}"])
    finetune(single)
    finetune(
        load_config(
            "tiny-cpu",
            single_args
            + [
                f"train.output={tmp_path / 'single_lora'}",
                "instruct.lora_r=4",
                "instruct.lora_dropout=0",
                "instruct.lr=5e-3",
            ],
        )
    )
    for mode, one in (("ddp", "single"), ("fsdp", "single"), ("ddp_lora", "single_lora")):
        got, ref = weights(tmp_path / mode), weights(tmp_path / one)
        assert got.keys() == ref.keys()
        for k in ref:
            assert torch.allclose(got[k], ref[k], atol=1e-6), (mode, k)


@pytest.mark.corpus
@pytest.mark.slow
def test_tiny_model_overfits_16_corpus_captions(tmp_path):
    """The acceptance run (about a minute): benchmarks/train_overfit.py on real gold captions."""
    from benchmarks.train_overfit import CORPUS, run

    result = run(CORPUS, None, tmp_path, [])
    assert result["records"] == 16
    assert result["final_loss"] < 0.05
    assert result["exact_captions"] >= 1


def test_two_stages_train_the_projector_then_the_llm(data16, tmp_path):
    """align changes only the projector; instruct starts from align's model and keeps vision frozen."""
    from transformers import AutoTokenizer

    run = tmp_path / "run"
    cfg = load_config(
        "tiny-cpu",
        [
            f"data.path={data16}",
            f"train.output={run}",
            "train.progress=false",
            "align.enabled=true",
            "align.max_steps=3",
            "instruct.max_steps=3",
            "train.log_every=1",
        ],
    )
    assert finetune(cfg) == run / "instruct" / "model"
    torch.manual_seed(cfg.train.seed)
    initial, _ = build_model(cfg.model, tokenizer=AutoTokenizer.from_pretrained(run / "tokenizer"))
    start = initial.state_dict()
    aligned = load_model(run / "align" / "model")[0].state_dict()
    tuned = load_model(run / "instruct" / "model")[0].state_dict()
    assert start.keys() == aligned.keys() == tuned.keys()
    for k, v in start.items():
        assert torch.equal(aligned[k], v) != ("multi_modal_projector.linear_1" in k), k
        if "vision_tower" in k or "linear_2" in k:
            assert torch.equal(tuned[k], v), k
        elif "language_model.layers" in k or "lm_head" in k:
            assert not torch.equal(tuned[k], v), k
    assert [json.loads(x)["stage"] for x in (run / "align" / "metrics.jsonl").read_text().splitlines()] == [
        "align"
    ] * 3
