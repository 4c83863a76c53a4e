"""Schema version 1 of the `instructions` rows (contract: id, figure_id, task, images, messages)."""

from datasets import Features, Image, List, Value

# Where an image goes in a user turn: LLaVA's placeholder, written by curate/ and read by train/.
IMAGE_TOKEN = "<image>"

INSTRUCTION_FEATURES = Features(
    {
        "id": Value("string"),
        "figure_id": Value("string"),
        "paper_id": Value("string"),
        "task": Value("string"),
        "images": List(Image()),
        "messages": List({"role": Value("string"), "content": Value("string")}),
        "template_id": Value("string"),
        "template_version": Value("string"),
        "license": Value("string"),
    }
)

INSTRUCTION_COLUMNS: dict[str, str] = {
    "id": "Unique and stable: `{figure_id}/{task}` (plus an index when a task yields several rows).",
    "figure_id": "The figure it came from.",
    "paper_id": "The paper it came from.",
    "task": "`caption`, `ctom`, `figure_type`, `ocr`, `mention`, `caption_with_context`, ...",
    "images": f"The figure image(s); `{IMAGE_TOKEN}` in the user turn marks where each goes.",
    "messages": "Chat turns `{role, content}`: `user` then `assistant` (possibly repeated).",
    "template_id": "Which instruction template produced the user turn.",
    "template_version": "Version of the template pool.",
    "license": "Licence of the source paper, copied from the figure row.",
}

assert set(INSTRUCTION_COLUMNS) == set(INSTRUCTION_FEATURES)
