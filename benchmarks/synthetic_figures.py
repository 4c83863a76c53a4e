"""Figures of every class, drawn from code, for training the figure-type model (no corpus file used).

`synthetic_figure(cls, rng)` draws one random figure of class `cls` with matplotlib and returns it as
PDF bytes (vector where matplotlib draws vectors, raster where it embeds images), so the same PDF
signals that curation reads from papers can be read from it. Random sizes, counts, colours, styles,
fonts, panels and labels keep the model from learning one look per class.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle  # noqa: E402

WORDS = (
    "model data time error rate loss accuracy energy mass flux signal noise input output layer encoder "
    "decoder baseline ours method sample mean density pressure velocity temperature frequency count score "
    "policy reward step epoch latency throughput node cluster region phase"
).split()
CMAPS = ("viridis", "magma", "plasma", "coolwarm", "RdBu", "Greys", "Blues", "inferno", "cividis", "jet")


def _words(rng, n=2) -> str:
    return " ".join(rng.choice(WORDS, size=n))


def _fig(rng, panels: int = 1, **kw):
    w, h = rng.uniform(3.0, 7.0), rng.uniform(2.2, 5.0)
    if panels > 1:
        rows = 1 if rng.random() < 0.6 else 2
        cols = int(np.ceil(panels / rows))
        fig, axes = plt.subplots(rows, cols, figsize=(w * min(cols, 2) * 0.8, h * rows * 0.8), **kw)
        return fig, list(np.atleast_1d(axes).ravel())
    fig, ax = plt.subplots(figsize=(w, h), **kw)
    return fig, [ax]


def _labels(ax, rng) -> None:
    if rng.random() < 0.85:
        ax.set_xlabel(_words(rng, rng.integers(1, 3)))
    if rng.random() < 0.85:
        ax.set_ylabel(_words(rng, rng.integers(1, 3)))
    if rng.random() < 0.3:
        ax.set_title(_words(rng, 2))
    if rng.random() < 0.3:
        ax.grid(True, alpha=rng.uniform(0.2, 0.6))


def _panels(rng) -> int:
    return 1 if rng.random() < 0.65 else int(rng.integers(2, 5))


def line_plot(rng):
    fig, axes = _fig(rng, _panels(rng))
    for ax in axes:
        x = np.linspace(0, rng.uniform(1, 100), int(rng.integers(30, 400)))
        for k in range(int(rng.integers(1, 6))):
            kind = rng.integers(0, 3)
            y = (
                np.cumsum(rng.normal(size=x.size))
                if kind == 0
                else np.sin(x * rng.uniform(0.05, 2) + k) * rng.uniform(0.5, 3)
                if kind == 1
                else np.exp(-x / rng.uniform(1, 50)) * rng.uniform(1, 5) + rng.normal(0, 0.02, x.size)
            )
            style = rng.choice(["-", "--", "-.", ":"])
            marker = rng.choice(["", "", "", "o", "s", "^"])
            ax.plot(x, y, style, marker=marker or None, markevery=max(1, x.size // 10), label=_words(rng, 1))
        if rng.random() < 0.2:
            ax.set_yscale("symlog")
        if rng.random() < 0.5:
            ax.legend(fontsize=rng.uniform(5, 9))
        _labels(ax, rng)
    return fig


def scatter_plot(rng):
    fig, axes = _fig(rng, _panels(rng))
    for ax in axes:
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(30, 2500))
            x = rng.normal(size=n) * rng.uniform(0.5, 3)
            y = x * rng.uniform(-2, 2) + rng.normal(size=n) * rng.uniform(0.2, 3)
            c = y if rng.random() < 0.25 else None
            ax.scatter(
                x,
                y,
                s=rng.uniform(2, 30),
                c=c,
                alpha=rng.uniform(0.4, 1),
                marker=rng.choice(["o", ".", "s", "x", "^"]),
            )
        if rng.random() < 0.3:
            xs = np.linspace(-3, 3, 10)
            ax.plot(xs, xs * rng.uniform(-2, 2), "k--")
        _labels(ax, rng)
    return fig


def bar_chart(rng):
    fig, axes = _fig(rng, 1 if rng.random() < 0.75 else 2)
    for ax in axes:
        n, groups = int(rng.integers(3, 13)), int(rng.integers(1, 4))
        x = np.arange(n)
        width = 0.8 / groups
        bottom = np.zeros(n)
        stacked = rng.random() < 0.25
        horizontal = rng.random() < 0.25
        for g in range(groups):
            v = rng.uniform(0.5, 10, n)
            err = rng.uniform(0.1, 1, n) if rng.random() < 0.3 else None
            pos = x if stacked else x + g * width
            if horizontal:
                ax.barh(
                    pos, v, height=width if not stacked else 0.8, left=bottom if stacked else None, xerr=err
                )
            else:
                ax.bar(
                    pos, v, width=width if not stacked else 0.8, bottom=bottom if stacked else None, yerr=err
                )
            bottom = bottom + v
        labels = [_words(rng, 1) for _ in range(n)]
        (ax.set_yticks if horizontal else ax.set_xticks)(
            x, labels, rotation=0 if horizontal else rng.choice([0, 45, 90])
        )
        _labels(ax, rng)
    return fig


def histogram(rng):
    fig, axes = _fig(rng, _panels(rng))
    for ax in axes:
        for _ in range(int(rng.integers(1, 4))):
            data = rng.normal(rng.uniform(-2, 2), rng.uniform(0.5, 2), int(rng.integers(200, 5000)))
            if rng.random() < 0.3:
                data = rng.exponential(rng.uniform(0.5, 3), data.size)
            ax.hist(
                data,
                bins=int(rng.integers(10, 60)),
                histtype=rng.choice(["bar", "stepfilled", "step"]),
                alpha=rng.uniform(0.4, 1),
                density=rng.random() < 0.5,
            )
        if rng.random() < 0.3:
            xs = np.linspace(-4, 4, 100)
            ax.plot(xs, np.exp(-(xs**2) / 2) / 2.5, "k-")
        _labels(ax, rng)
    return fig


def box_plot(rng):
    fig, axes = _fig(rng, 1 if rng.random() < 0.7 else 2)
    for ax in axes:
        n = int(rng.integers(2, 11))
        data = [
            rng.normal(rng.uniform(-2, 2), rng.uniform(0.3, 2), int(rng.integers(20, 300))) for _ in range(n)
        ]
        if rng.random() < 0.3:
            ax.violinplot(data, showmedians=True)
        else:
            ax.boxplot(data, vert=rng.random() < 0.8, patch_artist=rng.random() < 0.5)
        _labels(ax, rng)
    return fig


def heatmap(rng):
    fig, axes = _fig(rng, 1 if rng.random() < 0.7 else 2)
    for ax in axes:
        n, m = int(rng.integers(4, 40)), int(rng.integers(4, 40))
        data = rng.random((n, m))
        if rng.random() < 0.4:
            data = np.add.outer(
                np.sin(np.linspace(0, 3, n)), np.cos(np.linspace(0, 3, m))
            ) + 0.1 * rng.random((n, m))
        cmap = rng.choice(CMAPS)
        if rng.random() < 0.5:
            im = ax.imshow(data, cmap=cmap, aspect="auto")
        else:
            im = ax.pcolormesh(data, cmap=cmap)
        if rng.random() < 0.7:
            fig.colorbar(im, ax=ax)
        if n * m <= 100 and rng.random() < 0.6:
            for i in range(n):
                for j in range(m):
                    ax.text(
                        j + (0 if rng.random() < 2 else 0.5),
                        i,
                        f"{data[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                    )
        _labels(ax, rng)
    return fig


def pie_chart(rng):
    fig, axes = _fig(rng, 1 if rng.random() < 0.8 else 2)
    for ax in axes:
        n = int(rng.integers(2, 9))
        v = rng.uniform(1, 10, n)
        kw = {"wedgeprops": {"width": rng.uniform(0.3, 0.6)}} if rng.random() < 0.3 else {}
        ax.pie(
            v,
            labels=[_words(rng, 1) for _ in range(n)] if rng.random() < 0.7 else None,
            autopct="%1.0f%%" if rng.random() < 0.6 else None,
            startangle=float(rng.uniform(0, 360)),
            **kw,
        )
        ax.set_aspect("equal")
    return fig


def area_chart(rng):
    fig, axes = _fig(rng, 1 if rng.random() < 0.8 else 2)
    for ax in axes:
        x = np.linspace(0, 10, int(rng.integers(20, 200)))
        ys = [np.abs(np.cumsum(rng.normal(size=x.size))) + 1 for _ in range(int(rng.integers(1, 5)))]
        if rng.random() < 0.6:
            ax.stackplot(x, *ys, alpha=rng.uniform(0.6, 1))
        else:
            for y in ys:
                ax.fill_between(x, y, alpha=rng.uniform(0.3, 0.7))
        _labels(ax, rng)
    return fig


def other_plot(rng):
    kind = rng.integers(0, 4)
    if kind == 0:  # contours
        fig, axes = _fig(rng)
        xx, yy = np.meshgrid(np.linspace(-3, 3, 80), np.linspace(-3, 3, 80))
        zz = np.exp(-(xx**2 + yy**2) / rng.uniform(0.5, 4)) + rng.uniform(0, 0.5) * np.sin(xx * yy)
        (axes[0].contourf if rng.random() < 0.5 else axes[0].contour)(
            xx, yy, zz, levels=int(rng.integers(5, 15))
        )
        _labels(axes[0], rng)
    elif kind == 1:  # polar
        fig = plt.figure(figsize=(rng.uniform(3, 5), rng.uniform(3, 5)))
        ax = fig.add_subplot(projection="polar")
        t = np.linspace(0, 2 * np.pi, 200)
        for _ in range(int(rng.integers(1, 4))):
            ax.plot(t, 1 + rng.uniform(0.1, 0.8) * np.sin(t * rng.integers(1, 6)))
    elif kind == 2:  # 3-D surface
        fig = plt.figure(figsize=(rng.uniform(3, 6), rng.uniform(3, 5)))
        ax = fig.add_subplot(projection="3d")
        xx, yy = np.meshgrid(np.linspace(-2, 2, 25), np.linspace(-2, 2, 25))
        ax.plot_surface(xx, yy, np.sin(xx * rng.uniform(0.5, 2)) * np.cos(yy), cmap=rng.choice(CMAPS))
    else:  # corner-style grid of 2-D densities and marginals
        k = int(rng.integers(2, 4))
        fig, axes = plt.subplots(k, k, figsize=(rng.uniform(4, 6),) * 2)
        data = rng.normal(size=(800, k))
        for i in range(k):
            for j in range(k):
                ax = axes[i, j]
                if i == j:
                    ax.hist(data[:, i], bins=25, histtype="step")
                elif i > j:
                    ax.hist2d(data[:, j], data[:, i], bins=20, cmap="Greys")
                else:
                    ax.axis("off")
    return fig


def _box_diagram(ax, rng):
    n = int(rng.integers(3, 10))
    layout = rng.integers(0, 3)
    pos = []
    for i in range(n):
        if layout == 0:
            pos.append((i / max(n - 1, 1) * 0.8 + 0.1, 0.5 + rng.uniform(-0.05, 0.05)))
        elif layout == 1:
            pos.append((rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)))
        else:
            pos.append(((i % 3) * 0.35 + 0.15, (i // 3) * 0.3 + 0.15))
    round_box = rng.random() < 0.5
    circles = rng.random() < 0.25
    for x, y in pos:
        if circles:
            ax.add_patch(
                Circle((x, y), 0.04, fill=rng.random() < 0.5, color=plt.cm.tab10(rng.integers(0, 10)))
            )
        else:
            w, h = rng.uniform(0.08, 0.16), rng.uniform(0.06, 0.12)
            ax.add_patch(
                FancyBboxPatch(
                    (x - w / 2, y - h / 2),
                    w,
                    h,
                    boxstyle="round,pad=0.01" if round_box else "square,pad=0",
                    fc=plt.cm.Pastel1(rng.integers(0, 9)) if rng.random() < 0.6 else "white",
                    ec="black",
                )
            )
            ax.text(x, y, _words(rng, 1), ha="center", va="center", fontsize=rng.uniform(5, 9))
    edges = [(i, i + 1) for i in range(n - 1)] + [
        (int(rng.integers(0, n)), int(rng.integers(0, n))) for _ in range(int(rng.integers(0, n)))
    ]
    for a, b in edges:
        if a != b:
            ax.add_patch(
                FancyArrowPatch(
                    pos[a],
                    pos[b],
                    arrowstyle="-|>" if rng.random() < 0.8 else "-",
                    mutation_scale=10,
                    shrinkA=12,
                    shrinkB=12,
                    color="black",
                    lw=rng.uniform(0.5, 1.5),
                )
            )


def diagram(rng):
    fig, axes = _fig(rng, 1)
    ax = axes[0]
    _box_diagram(ax, rng)
    if rng.random() < 0.3:  # a small plot inside a pipeline figure
        inset = ax.inset_axes([0.7, 0.7, 0.25, 0.25])
        inset.plot(np.cumsum(rng.normal(size=50)))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig


def illustration(rng):
    fig, axes = _fig(rng, 1)
    ax = axes[0]
    for _ in range(int(rng.integers(3, 15))):
        kind = rng.integers(0, 4)
        c = plt.cm.tab20(rng.integers(0, 20))
        if kind == 0:
            ax.add_patch(
                Polygon(
                    rng.uniform(0, 1, (int(rng.integers(3, 8)), 2)), fc=c, ec="k", alpha=rng.uniform(0.4, 1)
                )
            )
        elif kind == 1:
            ax.add_patch(Circle(rng.uniform(0.1, 0.9, 2), rng.uniform(0.03, 0.2), fc=c, ec="k"))
        elif kind == 2:
            t = np.linspace(0, 1, 60)
            ax.plot(
                rng.uniform(0, 1) + 0.3 * t,
                rng.uniform(0, 1) + 0.2 * np.sin(t * rng.uniform(3, 12)),
                color=c,
                lw=rng.uniform(1, 4),
            )
        else:
            ax.add_patch(
                Rectangle(
                    rng.uniform(0, 0.8, 2),
                    rng.uniform(0.05, 0.3),
                    rng.uniform(0.05, 0.3),
                    angle=float(rng.uniform(0, 90)),
                    fc=c,
                )
            )
    for _ in range(int(rng.integers(0, 5))):
        ax.annotate(
            _words(rng, 1),
            rng.uniform(0.1, 0.9, 2),
            rng.uniform(0.1, 0.9, 2),
            arrowprops={"arrowstyle": "->"},
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig


def _natural_image(rng, h=160, w=220) -> np.ndarray:
    img = np.zeros((h, w, 3))
    for _ in range(int(rng.integers(3, 12))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(10, 80)
        yy, xx = np.mgrid[:h, :w]
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
        img += blob[..., None] * rng.uniform(0, 1, 3)
    img += rng.normal(0, rng.uniform(0.02, 0.15), img.shape)
    if rng.random() < 0.5:  # greyscale (microscopy, astronomy)
        img = img.mean(axis=2, keepdims=True).repeat(3, axis=2)
    return np.clip(img / max(img.max(), 1e-6), 0, 1)


def photo(rng):
    k = 1 if rng.random() < 0.6 else int(rng.integers(2, 7))
    fig, axes = _fig(rng, k)
    for ax in axes:
        ax.imshow(_natural_image(rng), aspect="auto")
        ax.axis("off")
        if rng.random() < 0.3:
            ax.text(5, 15, f"({chr(97 + int(rng.integers(0, 6)))})", color="white", fontsize=9)
    return fig


def map_figure(rng):
    fig, axes = _fig(rng, 1)
    ax = axes[0]
    if rng.random() < 0.5:  # sky map: a 2-D field with sky coordinates and sources
        img = _natural_image(rng, 120, 200).mean(axis=2)
        ax.imshow(img, cmap=rng.choice(CMAPS), extent=(10, -10, -5, 5))
        ax.set_xlabel("RA (deg)" if rng.random() < 0.5 else "Galactic longitude")
        ax.set_ylabel("Dec (deg)" if rng.random() < 0.5 else "Galactic latitude")
        for _ in range(int(rng.integers(0, 8))):
            ax.add_patch(Circle(rng.uniform([-9, -4], [9, 4]), rng.uniform(0.2, 1), fill=False, ec="white"))
    else:  # geographic: land polygons, coastlines, graticule
        ax.set_facecolor(plt.cm.Blues(0.3))
        for _ in range(int(rng.integers(2, 7))):
            c = rng.uniform([-150, -60], [150, 60])
            t = np.linspace(0, 2 * np.pi, 40)
            r = rng.uniform(8, 40) * (1 + 0.3 * rng.normal(size=t.size))
            ax.add_patch(
                Polygon(
                    np.c_[c[0] + r * np.cos(t), c[1] + 0.6 * r * np.sin(t)],
                    fc=plt.cm.Greens(rng.uniform(0.3, 0.8)),
                    ec="k",
                    lw=0.5,
                )
            )
        ax.scatter(rng.uniform(-150, 150, 20), rng.uniform(-60, 60, 20), s=8, c="red")
        ax.set_xlim(-180, 180)
        ax.set_ylim(-90, 90)
        ax.set_xticks([-120, -60, 0, 60, 120], ["120°W", "60°W", "0°", "60°E", "120°E"])
        ax.set_yticks([-60, -30, 0, 30, 60], ["60°S", "30°S", "0°", "30°N", "60°N"])
    return fig


def screenshot(rng):
    from PIL import Image, ImageDraw

    w, h = int(rng.integers(300, 700)), int(rng.integers(200, 500))
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(225, 256, 3)))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, int(rng.integers(18, 40))], fill=tuple(int(v) for v in rng.integers(30, 120, 3)))
    y = 50
    while y < h - 20:
        if rng.random() < 0.3:
            d.rectangle(
                [10, y, int(rng.integers(60, w - 10)), y + 18], outline=(120, 120, 120), fill=(255, 255, 255)
            )
        else:
            d.text(
                (int(rng.integers(10, 60)), y),
                " ".join(rng.choice(WORDS, size=int(rng.integers(2, 8)))),
                fill=(20, 20, 20),
            )
        if rng.random() < 0.2:
            d.rectangle([w - 90, y, w - 20, y + 16], fill=tuple(int(v) for v in rng.integers(0, 200, 3)))
        y += int(rng.integers(18, 34))
    fig, axes = _fig(rng, 1)
    axes[0].imshow(np.asarray(img), aspect="auto")
    axes[0].axis("off")
    return fig


def table_as_figure(rng):
    fig, axes = _fig(rng, 1)
    ax = axes[0]
    rows, cols = int(rng.integers(3, 12)), int(rng.integers(2, 7))
    cells = [
        [f"{rng.uniform(0, 100):.{int(rng.integers(0, 3))}f}" if j else _words(rng, 1) for j in range(cols)]
        for _ in range(rows)
    ]
    table = ax.table(cellText=cells, colLabels=[_words(rng, 1) for _ in range(cols)], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(rng.uniform(6, 10))
    if rng.random() < 0.5:
        for cell in table.get_celld().values():
            cell.set_linewidth(0)
    ax.axis("off")
    return fig


_ALGO = [
    "for $i = 1$ to $N$ do",
    "  compute $g_i = \\nabla L(\\theta_i)$",
    "  $\\theta \\leftarrow \\theta - \\eta g_i$",
    "end for",
    "if converged then",
    "  return $\\theta$",
    "while $t < T$ do",
    "  sample $x \\sim p(x)$",
    "Input: data $D$, rate $\\eta$",
    "Output: parameters $\\theta$",
    "$E = mc^2$",
    "$y = \\sum_k w_k x_k + b$",
    "Require: a graph $G$ and a source $s$",
    "Ensure: distances $d$",
    "  for each edge $(u, v)$ in $E$ do",
    "    relax the edge and update the queue",
    "  end for",
    "procedure Update($x$, $k$)",
]
_CODE = [
    "import numpy as np",
    "from scipy import stats",
    "def fit(x, y):",
    "    return np.polyfit(x, y, 1)",
    "for i in range(10):",
    "    print(i, result[i])",
    "data = load('events.fits')",
    "model.fit(data, epochs=5)",
    "x = np.linspace(0, 1, 100)",
    "class Model(nn.Module):",
    "    def forward(self, x):",
    "if __name__ == '__main__':",
    "$ pip install package",
    ">>> table = Table.read(path)",
    "    plt.plot(x, y, 'k-')",
    "from gammapy.data import DataStore",
    "obs = store.get_observations([23523])",
    "print(obs.events.table[:5])",
    "geom = WcsGeom.create(skydir=(83.6, 22.0), width=5)",
    "# select the events in the region",
    "}",
    "int main(int argc, char **argv) {",
    "    return 0;",
    "lc = search(target).download()",
    "    counts.fill(events=events)",
    "axis = MapAxis.from_energy_bounds(1, 10, nbin=5, unit='TeV')",
]


def _text_figure(rng, lines, mono: bool):
    # listings are set in monospace or, as often in papers, in the body's roman face
    mono = mono and rng.random() < 0.5
    fig = plt.figure(figsize=(rng.uniform(3, 7), rng.uniform(1.5, 4)))
    n = int(rng.integers(4, 14))
    size = rng.uniform(6, 10)
    for i in range(n):
        line = lines[int(rng.integers(0, len(lines)))]
        fig.text(
            0.05,
            0.92 - i * 0.85 / n,
            line,
            family="monospace" if mono else "serif",
            fontsize=size,
            weight="bold" if (not mono and i == 0) else "normal",
        )
    if rng.random() < 0.5:
        fig.add_artist(plt.Line2D([0.02, 0.98], [0.97, 0.97], color="k", lw=0.8))
        fig.add_artist(plt.Line2D([0.02, 0.98], [0.03, 0.03], color="k", lw=0.8))
    if mono and rng.random() < 0.4:
        fig.patch.set_facecolor((0.95, 0.95, 0.95))
    return fig


def equation_or_algorithm(rng):
    return _text_figure(rng, ["Algorithm 1 " + _words(rng, 2)] + _ALGO, mono=False)


def code_listing(rng):
    return _text_figure(rng, _CODE, mono=True)


GENERATORS = {
    "line_plot": line_plot,
    "scatter_plot": scatter_plot,
    "bar_chart": bar_chart,
    "histogram": histogram,
    "box_plot": box_plot,
    "heatmap": heatmap,
    "pie_chart": pie_chart,
    "area_chart": area_chart,
    "other_plot": other_plot,
    "diagram": diagram,
    "illustration": illustration,
    "photo": photo,
    "map": map_figure,
    "screenshot": screenshot,
    "table_as_figure": table_as_figure,
    "equation_or_algorithm": equation_or_algorithm,
    "code_listing": code_listing,
}


def synthetic_figure(cls: str, rng: np.random.Generator) -> bytes:
    """One random figure of class `cls` as a one-page PDF."""
    plt.rcParams["font.size"] = float(rng.uniform(6, 11))
    fig = GENERATORS[cls](rng)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
