#!/usr/bin/env bash
# GPU checks of `scitune-train finetune`, in one run of at most ~6 minutes (limit: 10).
#
#   bash benchmarks/gpu_check.sh            # results under $OUT (or ./gpu_check_out)
#
# The GPU machine has torch, transformers, datasets, typer, pyyaml and safetensors but not this
# package, and no network: the checkout is installed in editable mode, without dependencies and without
# build isolation (setuptools comes from the machine), into a throw-away venv that sees the machine's
# packages, so the benchmarks import the installed `scitune` as they do everywhere else.
# transformers' Trainer (the throughput baseline) needs `accelerate` (+ psutil); when the machine
# lacks it, the script uses build/gpu_vendor if it was carried (see the end of this file), else it
# measures our loop alone and says so.
#
# Steps (each with its own time limit; a failure is recorded and the next step runs):
#   1. environment: versions, GPU, import check                             -> $OUT/env.txt
#   2. throughput, bf16: our loop vs Trainer, SmolLM2-135M architecture +
#      small CLIP, 3 interleaved rounds, MFU                                 -> $OUT/train_speed.{json,md}
#   3. tiny-cpu config, bf16 on the GPU: 300 steps on generated records     -> $OUT/tiny_bf16/
#   4. FSDP2 (fully_shard) on 1 GPU through torchrun: tiny model stopped at
#      step 10 and resumed from the sharded checkpoint                      -> $OUT/tiny_fsdp/
#   5. FSDP2 throughput of our loop on the SmolLM2-shaped model, 1 round    -> $OUT/train_speed_fsdp.{json,md}
# Without a GPU it runs the same steps on the CPU, scaled down (to test this script).
set -u -o pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/gpu_check_out}"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
PY="${PYTHON:-python3}"

# scitune installed from this checkout (offline: no dependencies, the machine's own setuptools)
VENV="$(mktemp -d)/venv"
"$PY" -m venv --system-site-packages --without-pip "$VENV"
install_scitune() { "$VENV/bin/python" -m pip install -q --no-build-isolation --no-deps -e "$REPO"; }
# pyproject's SPDX `license` needs setuptools>=77; an older one is replaced by a carried wheel (see the end)
if ! install_scitune > "$OUT/install.log" 2>&1 \
    && ! { compgen -G "$REPO/.whl/setuptools-*.whl" > /dev/null \
           && "$VENV/bin/python" -m pip install -q --no-index --no-deps "$REPO"/.whl/setuptools-*.whl \
           && install_scitune; } >> "$OUT/install.log" 2>&1; then
    echo "installing scitune failed (see install.log): it needs pip and setuptools>=77 (carry .whl)" | tee -a "$SUMMARY"
    tail -n 15 "$OUT/install.log" | sed 's/^/    | /' >> "$SUMMARY"
    exit 1
fi
PY="$VENV/bin/python"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export HF_HOME="$OUT/.hf_home"  # datasets' cache stays inside the run
cd "$REPO"

step() {  # step NAME LIMIT_SECONDS COMMAND...: run, time, record the outcome
    local name="$1" limit="$2"
    shift 2
    local t0=$SECONDS
    echo "=== $name (limit ${limit}s)" | tee -a "$SUMMARY"
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "    exit $rc after $((SECONDS - t0))s; log: $name.log" | tee -a "$SUMMARY"
    tail -n 15 "$OUT/$name.log" | sed 's/^/    | /' >> "$SUMMARY"
    return 0
}

if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    GPU=1; DEVICE=cuda; DTYPE=bf16
    BENCH=(--rounds 3 --steps 30 --warmup 10 --rows 256)
    TINY_STEPS=300
else
    GPU=0; DEVICE=cpu; DTYPE=auto
    BENCH=(--rounds 1 --steps 2 --warmup 1 --threads 1 --rows 16)
    TINY_STEPS=20
    echo "no GPU: running the CPU fallback (scaled down)" | tee -a "$SUMMARY"
fi

if ! "$PY" -c "import accelerate" 2>/dev/null && [ -d "$REPO/build/gpu_vendor" ]; then
    export PYTHONPATH="$PYTHONPATH:$REPO/build/gpu_vendor"
fi

# 1. environment
step env 60 "$PY" - <<'EOF'
import importlib.util, platform, torch, transformers, datasets
import scitune.train.loop, scitune.train.model
print("python", platform.python_version(), "torch", torch.__version__, "transformers", transformers.__version__,
      "datasets", datasets.__version__)
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else "-")
print("scitune.train from", scitune.train.loop.__file__)
print("accelerate", importlib.util.find_spec("accelerate") is not None)
EOF
cp "$OUT/env.log" "$OUT/env.txt"

# generated records for the tiny runs
"$PY" - "$OUT/data" <<'EOF'
import runpy, sys
from pathlib import Path
speed = runpy.run_path("benchmarks/train_speed.py")  # its helpers, without running its main
speed["write_rows"](Path(sys.argv[1]), speed["make_rows"](32, max_words=40, seed=1))
EOF

# 2. throughput: ours vs Trainer, bf16 on the GPU
step train_speed 330 "$PY" benchmarks/train_speed.py --device "$DEVICE" "${BENCH[@]}" --json "$OUT/train_speed.json" \
    --keep "$OUT/.train_speed_work"

# 3. the tiny config in bf16 on the GPU
step tiny_bf16 120 "$PY" -m scitune.train.cli finetune tiny-cpu --data "$OUT/data" -o "$OUT/tiny_bf16" \
    --set train.dtype="$DTYPE" --set train.threads=none --set instruct.max_steps="$TINY_STEPS" \
    --set instruct.batch_size=16 --set train.progress=false --set train.log_every=10

# 4. FSDP2 on one GPU: stop at step 10, resume from the sharded checkpoint
FSDP=(-m torch.distributed.run --standalone --nproc_per_node=1 -m scitune.train.cli finetune tiny-cpu
      --data "$OUT/data" -o "$OUT/tiny_fsdp" --set train.parallel=fsdp --set train.dtype="$DTYPE"
      --set instruct.max_steps=20 --set instruct.batch_size=8 --set train.progress=false --set train.log_every=5)
step tiny_fsdp_stop 120 "$PY" "${FSDP[@]}" --set train.stop_at=10
step tiny_fsdp_resume 120 "$PY" "${FSDP[@]}" --resume

# 5. FSDP2 throughput of our loop on the SmolLM2-shaped model (one round, ours only; one process joins a
#    process group of one by itself, so no launcher is needed)
step train_speed_fsdp 150 "$PY" benchmarks/train_speed.py \
    --device "$DEVICE" "${BENCH[@]}" --rounds 1 --only ours --ours-parallel fsdp --json "$OUT/train_speed_fsdp.json" \
    --keep "$OUT/.train_speed_fsdp_work"

# what the runs say, in one place
"$PY" - "$OUT" <<'EOF' | tee -a "$SUMMARY"
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for name in ("train_speed", "train_speed_fsdp"):
    f = out / f"{name}.json"
    if f.exists():
        r = json.loads(f.read_text())
        print(name, json.dumps(r["summary"]), "ratio", r.get("speedup_ours_over_trainer"))
for run in ("tiny_bf16", "tiny_fsdp"):
    f = out / run / "instruct" / "metrics.jsonl"
    if f.exists():
        last = json.loads(f.read_text().splitlines()[-1])
        print(run, "last:", json.dumps(last))
EOF
rm -rf "$(dirname "$VENV")" "$OUT/.train_speed_work/model" "$OUT/.train_speed_fsdp_work/model" "$OUT/.hf_home" \
    "$OUT/tiny_bf16/instruct/checkpoints" "$OUT/tiny_fsdp/instruct/checkpoints"
echo "done: $SUMMARY"

# Carrying accelerate to a machine without it: fill build/gpu_vendor here (git ignores build/), e.g.
#   python -m pip install --no-deps --target build/gpu_vendor accelerate psutil
# (or copy both packages and their .dist-info folders from .venv; psutil's extension is abi3), then
# run this script with carry=["build/gpu_vendor"].
# scitune is installed with the machine's setuptools; when that is older than 77 (pyproject's SPDX
# `license`), carry a wheel: `pip download --no-deps -d .whl 'setuptools>=77'` and carry=[".whl"].
# The lent H200 (2026-11-26) had no `datasets`, and its pyarrow 25 is older than the one
# this checkout uses: carry wheels for its Python 3.12 too, made here with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d .whl datasets==5.2.0 dill multiprocess pyarrow==26.0.1
# then run with carry=[".whl", "build/gpu_vendor"] and start the command with
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site;
