"""Run under `torchrun --nproc_per_node=2` by test_loop.py: DDP, FSDP2 stopped and resumed, DDP + LoRA.

Usage: dist_runs.py DATA OUT; writes OUT/ddp, OUT/fsdp, OUT/ddp_lora (each a finished run).
"""

import sys

from scitune.train.config import load_config
from scitune.train.loop import close_distributed, finetune

data, out = sys.argv[1], sys.argv[2]
common = [
    "train.progress=false",
    "instruct.max_steps=4",
    "instruct.batch_size=4",
    "data.group_chunk=2",
    "train.log_every=2",
    "data.prefetch=0",
    f"data.path={data}",
]
finetune(load_config("tiny-cpu", common + ["train.parallel=ddp", f"train.output={out}/ddp"]))
assert (
    finetune(
        load_config(
            "tiny-cpu", common + ["train.parallel=fsdp", f"train.output={out}/fsdp", "train.stop_at=2"]
        )
    )
    is None
)
finetune(load_config("tiny-cpu", common + ["train.parallel=fsdp", f"train.output={out}/fsdp"]), resume=True)
# LoRA dropout 0: its random masks differ between 1 and 2 processes
finetune(
    load_config(
        "tiny-cpu",
        common
        + [
            "train.parallel=ddp",
            f"train.output={out}/ddp_lora",
            "instruct.lora_r=4",
            "instruct.lora_dropout=0",
            "instruct.lr=5e-3",
        ],
    )
)
close_distributed()
