"""PDF <-> LaTeX alignment of floats."""

from __future__ import annotations

from scitune.curate.join import caption_prefix, join, token_f1
from scitune.curate.records import Float


def pdf_float(kind, number, bare, prefix=None, page=3) -> Float:
    prefix = prefix or f"{kind.capitalize()} {number}: "
    return Float(
        kind,
        number,
        prefix + bare,
        bare,
        page=page,
        bbox=(1, 2, 3, 4),
        image_png=b"png",
        ocr=["a", "b"],
        ocr_source="text_layer",
        paragraphs=["pdf para"],
        mentions=["pdf sent"],
    )


def tex_float(kind, number, bare, label=None) -> Float:
    return Float(
        kind,
        number,
        f"{kind.capitalize()} {number}: {bare}",
        bare,
        label=label,
        paragraphs=["As Fig. 1 shows, the tex paragraph."],
        mentions=["As Fig. 1 shows"],
        subfigures=[{"label": "a", "caption": "left"}],
        graphics=["fig/a.pdf"],
    )


def test_join_by_number_takes_pdf_rendering_and_latex_words():
    pdf = [pdf_float("figure", "1", "Growth of x (hyphen- ated)", prefix="Fig. 1. ")]
    tex = [tex_float("figure", "1", "Growth of x (hyphenated)", label="fig:x")]
    (j,) = join(pdf, tex)
    assert j.source == "pdf+latex"
    f = j.float
    assert f.caption == "Fig. 1. Growth of x (hyphenated)"  # printed prefix + exact LaTeX words
    assert f.caption_no_index == "Growth of x (hyphenated)"
    assert (f.page, f.bbox, f.image_png) == (3, (1, 2, 3, 4), b"png")
    assert f.label == "fig:x" and f.graphics == ["fig/a.pdf"] and f.subfigures[0]["caption"] == "left"
    assert f.paragraphs == ["As Fig. 1 shows, the tex paragraph."]
    assert f.ocr == ["a", "b"] and f.ocr_source == "text_layer"
    assert j.pdf_caption == "Fig. 1. Growth of x (hyphen- ated)"
    assert 0.5 < j.alignment_score < 1.0


def test_kinds_are_numbered_apart_and_leftovers_keep_their_source():
    pdf = [
        pdf_float("figure", "1", "A"),
        pdf_float("table", "1", "B"),
        pdf_float("figure", "9", "only in pdf"),
    ]
    tex = [tex_float("table", "1", "B"), tex_float("figure", "1", "A"), tex_float("figure", "2", "tikz only")]
    got = {(j.float.kind, j.float.number): j.source for j in join(pdf, tex)}
    assert got == {
        ("figure", "1"): "pdf+latex",
        ("table", "1"): "pdf+latex",
        ("figure", "9"): "pdf",
        ("figure", "2"): "latex",
    }


def test_second_pass_matches_on_caption_when_numbers_differ():
    bare = "Posterior distributions of the model parameters for all sources in the sample"
    pdf = [pdf_float("figure", "S1", bare)]
    tex = [
        tex_float("figure", "7", bare),
        tex_float("figure", "8", "Something entirely different here"),
        tex_float("figure", "9", "Posterior distributions of the noise parameters for bright sources only"),
    ]
    joined = {j.float.number: j for j in join(pdf, tex)}
    assert joined["S1"].source == "pdf+latex" and joined["S1"].alignment_score == 1.0
    assert joined["8"].source == "latex" and joined["9"].source == "latex"  # a sibling caption is not enough


def test_pdf_mentions_kept_when_latex_has_none():
    pdf = [pdf_float("figure", "1", "A")]
    t = tex_float("figure", "1", "A")
    t.paragraphs, t.mentions = [], []
    (j,) = join(pdf, [t])
    assert j.float.paragraphs == ["pdf para"] and j.float.mentions == ["pdf sent"]


def test_caption_prefix_and_token_f1():
    assert caption_prefix(Float("figure", "2", "FIGURE 2 | Flow", "Flow")) == "FIGURE 2 | "
    assert caption_prefix(Float("table", "II", "garbled", "Flow")) == "Table II: "
    assert token_f1("a b c", "a b c") == 1.0 and token_f1("a", "b") == 0.0
    assert abs(token_f1("a b", "a c") - 0.5) < 1e-9
