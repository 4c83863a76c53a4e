"""Join the PDF side and the LaTeX side of one paper into one float per printed float.

The PDF gives what only the PDF knows: the page, the box, the rendered image and the words of its
text layer. The LaTeX source gives what the authors wrote: the exact caption, the label, the
subfigures, the graphics files and `\\ref`-grounded mentions. Floats are matched on kind and
printed number first, then, for floats left over (numbering the two sides disagree on), on caption
similarity. Every joined float carries `alignment_score`, the token-F1 of the two captions, and the
PDF caption for comparison.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from .records import Float

# Token-F1 needed to pair floats whose numbers differ. Supplements often repeat one caption template
# across variants ("The coevolution of ... when T_f = 0.5"): such siblings reach 0.7, the same
# caption numbered differently by the two sides stays above 0.9.
CAPTION_MATCH_MIN = 0.8


@dataclass
class Joined:
    float: Float
    source: str  # "pdf" | "latex" | "pdf+latex"
    pdf_caption: str | None = None
    alignment_score: float | None = None


def tokens(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.lower())


def token_f1(a: str, b: str) -> float:
    ta, tb = Counter(tokens(a)), Counter(tokens(b))
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ta.values()), common / sum(tb.values())
    return 2 * precision * recall / (precision + recall)


def normalise_number(number: str) -> str:
    return re.sub(r"\s+", "", number).upper()


def caption_prefix(f: Float) -> str:
    """The printed label part of a caption (`Fig. 3. `), or a synthesised one."""
    bare = f.caption_no_index.strip()
    if bare and f.caption.rstrip().endswith(bare):
        prefix = f.caption.rstrip()[: len(f.caption.rstrip()) - len(bare)]
        if prefix.strip():
            return prefix
    return f"{f.kind.capitalize()} {f.number}: "


def merge(pdf: Float, tex: Float) -> Float:
    """One float with the PDF's rendering and the LaTeX source's words."""
    bare = tex.caption_no_index or pdf.caption_no_index
    return replace(
        pdf,
        # Where the PDF side found the caption but no region, the source's own graphic stands in.
        image_png=pdf.image_png or tex.image_png,
        caption=caption_prefix(pdf) + bare,
        caption_no_index=bare,
        label=tex.label,
        subfigures=tex.subfigures,
        graphics=tex.graphics,
        paragraphs=tex.paragraphs or pdf.paragraphs,
        mentions=tex.mentions if tex.paragraphs else pdf.mentions,
        ocr=pdf.ocr or tex.ocr,
        ocr_source=pdf.ocr_source if pdf.ocr else tex.ocr_source,
        ocr_boxes=pdf.ocr_boxes if pdf.ocr else [],
        # what the PDF draws, plus what the source says (TikZ, graphic file names)
        type_signals={**tex.type_signals, **pdf.type_signals},
        region_source=pdf.region_source if pdf.image_png else None,
    )


def join(pdf_floats: list[Float], tex_floats: list[Float]) -> list[Joined]:
    """Match floats of the two sides; unmatched floats are kept with their own source."""
    out: list[Joined] = []
    tex_left = list(tex_floats)
    pdf_left: list[Float] = []
    for p in pdf_floats:
        key = (p.kind, normalise_number(p.number))
        t = next((t for t in tex_left if (t.kind, normalise_number(t.number)) == key), None)
        if t is None:
            pdf_left.append(p)
            continue
        tex_left.remove(t)
        out.append(
            Joined(merge(p, t), "pdf+latex", p.caption, token_f1(p.caption_no_index, t.caption_no_index))
        )
    # Second pass: numbering differs between the sides (e.g. a supplement counted apart).
    for p in pdf_left:
        scored = [
            (token_f1(p.caption_no_index, t.caption_no_index), i)
            for i, t in enumerate(tex_left)
            if t.kind == p.kind
        ]
        best = max(scored, default=(0.0, -1))
        if best[0] >= CAPTION_MATCH_MIN:
            t = tex_left.pop(best[1])
            out.append(Joined(merge(p, t), "pdf+latex", p.caption, best[0]))
        else:
            out.append(Joined(p, "pdf"))
    out += [Joined(t, "latex") for t in tex_left]
    return out
