"""Schema version 2 of the `instructions` rows (contract: id, figure_id, task, images, messages).

`messages[].content` is a list of parts in the vision chat form of transformers and TRL:
`{"type": "text", "text": ...}` and `{"type": "image", "text": null}` (the image parts in the order of
`images`, each where the image sits in the turn). Every message has parts, assistant turns too, so the
column has one Arrow type. Version 1 stored `content` as a string with a literal `<image>` where the
image goes; `content_text` reads both, for trainers whose chat templates take strings.

An image part has no `image` key: TRL's `prepare_multimodal_messages` fills the parts that lack one
from `images`, and the chat templates of transformers' processors test `type == "image"`.
"""

from datasets import Features, Image, List, Value

# Where an image goes: LLaVA's placeholder. Version 1 rows held it in the user turn's text; version 2
# rows hold image parts, and `content_text` writes it back for readers of plain strings (LLaVA, our trainer).
IMAGE_TOKEN = "<image>"
PART_TYPES = ("text", "image")

CONTENT_PART = {"type": Value("string"), "text": Value("string")}

INSTRUCTION_FEATURES = Features(
    {
        "id": Value("string"),
        "figure_id": Value("string"),
        "paper_id": Value("string"),
        "task": Value("string"),
        "images": List(Image()),
        "messages": List({"role": Value("string"), "content": List(CONTENT_PART)}),
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
    "images": "The figure image(s), in the order of the image parts of `messages`.",
    "messages": "Chat turns `{role, content}`: `user` then `assistant` (possibly repeated); `content` is a "
    'list of parts `{"type": "text", "text": ...}` / `{"type": "image"}` (TRL / transformers vision form), '
    "the image part where the image sits.",
    "template_id": "Which instruction template produced the user turn.",
    "template_version": "Version of the template pool.",
    "license": "Licence of the source paper, copied from the figure row.",
}

assert set(INSTRUCTION_COLUMNS) == set(INSTRUCTION_FEATURES)


def text_part(text: str) -> dict:
    return {"type": "text", "text": text}


def image_part() -> dict:
    return {"type": "image", "text": None}


def content_parts(text: str) -> list[dict]:
    """A version-1 string turn as parts: split at each `<image>`; the line breaks around a tag go with it."""
    parts = []
    for i, piece in enumerate(text.split(IMAGE_TOKEN)):
        if i:
            parts.append(image_part())
        piece = piece.strip("\n")
        if piece:
            parts.append(text_part(piece))
    return parts


def content_text(content, image_tag: str = IMAGE_TOKEN) -> str:
    """A turn as one string with `image_tag` where each image goes (inverse of `content_parts`).

    Accepts version 1 (a string, returned as it is) and version 2 (a list of parts).
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces = [image_tag if p.get("type") == "image" else (p.get("text") or "") for p in content]
    return "\n".join(pieces)


def count_images(content) -> int:
    """Image slots of a turn: image parts (version 2) or `<image>` tags (version 1)."""
    if isinstance(content, str):
        return content.count(IMAGE_TOKEN)
    return sum(1 for p in content or [] if p.get("type") == "image")
