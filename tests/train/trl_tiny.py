"""TRL's SFTTrainer on scitune data with a tiny vision-language model built from configs (no download).

`tiny_vlm(texts)` is the project's tiny LLaVA (train/configs/tiny-cpu.yaml) whose processor gets a chat
template that reads content parts in place (`{"type": "image"}` -> `<image>`, text parts as they are),
as the chat templates of transformers' vision processors do; `sft(...)` runs a few SFTTrainer steps and
returns the logged losses; `own_images(...)` checks that TRL's collator gives each row its own image.
Run as a script (`python trl_tiny.py DATASET [CONFIG]`) it loads the dataset with `load_dataset`, trains
and prints a JSON report: the loopback-Hub test runs it in a process that sees only the fake Hub.
"""

from __future__ import annotations

import json
import sys
import tempfile

import torch

from scitune.schemas import content_text
from scitune.train.config import load_config
from scitune.train.model import build_model

# ChatML with content parts rendered where they sit; strings are accepted too (schema version 1).
PARTS_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '<image>' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% if not loop.last %}{{ '\n' }}{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def texts_of(dataset) -> list[str]:
    """All turn texts of a dataset in any of our forms (messages, or prompt + completion)."""
    out = []
    for row in dataset:
        turns = row.get("messages") or (row.get("prompt") or []) + (row.get("completion") or [])
        out += [content_text(m["content"], " ") for m in turns]
    return out * 3


def tiny_vlm(texts: list[str]):
    torch.manual_seed(0)
    model, processor = build_model(load_config("tiny-cpu").model, texts)
    processor.chat_template = PARTS_CHATML
    processor.tokenizer.chat_template = PARTS_CHATML
    return model, processor


def trainer_for(model, processor, dataset, output_dir: str, steps: int = 16, batch_size: int = 4):
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=output_dir,
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        logging_steps=1,
        max_length=None,  # never cut inside an image span
        gradient_checkpointing=False,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=0,
    )
    return SFTTrainer(model=model, processing_class=processor, train_dataset=dataset, args=args)


def sft(model, processor, dataset, output_dir: str, steps: int = 16) -> list[float]:
    trainer = trainer_for(model, processor, dataset, output_dir, steps)
    trainer.train()
    return [e["loss"] for e in trainer.state.log_history if "loss" in e]


def own_images(model, processor, dataset, output_dir: str, n: int = 4) -> None:
    """TRL's collator on the first rows: one image span per row, holding that row's own pixels."""
    trainer = trainer_for(model, processor, dataset, output_dir, steps=1)
    rows = [dataset[i] for i in range(min(n, len(dataset)))]
    batch = trainer.data_collator([dict(r) for r in rows])
    assert batch["pixel_values"].shape[0] == len(rows)
    for i, row in enumerate(rows):
        (image,) = row["images"]
        expected = processor.image_processor(images=[image.convert("RGB")], return_tensors="pt")[
            "pixel_values"
        ][0]
        assert torch.allclose(batch["pixel_values"][i], expected), f"row {i} does not carry its own image"
        n_image = int((batch["input_ids"][i] == processor.image_token_id).sum())
        assert n_image == model.config.image_seq_length, (i, n_image)
    assert (batch["labels"] != -100).any()


def falls(losses: list[float]) -> bool:
    """The mean of the last quarter of the logged losses is well under that of the first quarter."""
    k = max(1, len(losses) // 4)
    return sum(losses[-k:]) / k < 0.7 * sum(losses[:k]) / k


if __name__ == "__main__":
    from datasets import load_dataset

    torch.set_num_threads(1)  # as train.threads in tiny-cpu: a model this small runs fastest on one thread
    name, config = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    dataset = load_dataset(name, config, split="train")
    model, processor = tiny_vlm(texts_of(dataset))
    with tempfile.TemporaryDirectory() as tmp:
        own_images(model, processor, dataset, tmp)
        losses = sft(model, processor, dataset, tmp)
    print(json.dumps({"rows": len(dataset), "losses": losses}))
