"""Boxes on a PDF page, in points with the origin at the top left, and the page zones the steps share.

`Rect` is a plain 4-tuple (x0, y0, x1, y1) with names and the few operations the PDF steps need, so
code that indexes `r[0]` and code that calls `r.union(s)` work on the same values.
"""

from __future__ import annotations

from typing import NamedTuple

# Where running heads, feet and page numbers sit: the outer share of the page height at top and bottom.
# Heads of most journals end within 8.5% of the page (footers start as far from the foot); a row found
# as a running head (repeated, outermost) counts as the page's head or foot within 15% of its edge, which
# takes in the deep top margins of proceedings styles and never reaches the text block of a page.
HEAD_BAND = 0.085
EDGE_ZONE = 0.15
# A bare number further in than this share is no page number (a tick label at the top of a figure, say).
PAGE_NUMBER_BAND = 0.13

# Slack around a caption's column when looking for its float: axis labels and frames stick out of the
# column by a few points (half an em of body type), and float rules reach past the column edge.
BAND_PAD = 6.0


class Rect(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def of(cls, r) -> Rect:
        return cls(float(r[0]), float(r[1]), float(r[2]), float(r[3]))

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def union(self, other) -> Rect:
        return Rect(
            min(self[0], other[0]), min(self[1], other[1]), max(self[2], other[2]), max(self[3], other[3])
        )

    def intersection(self, other) -> Rect | None:
        """The common part, or None when the boxes do not meet (touching edges meet)."""
        r = Rect(
            max(self[0], other[0]), max(self[1], other[1]), min(self[2], other[2]), min(self[3], other[3])
        )
        return None if r.x0 > r.x1 or r.y0 > r.y1 else r

    def overlap_area(self, other) -> float:
        inter = self.intersection(other)
        return inter.area if inter else 0.0

    def iou(self, other) -> float:
        inter = self.overlap_area(other)
        union = self.area + Rect.of(other).area - inter
        return inter / union if union > 0 else 0.0

    def gap(self, other) -> float:
        """Distance between the boxes (0 when they touch or overlap)."""
        dx = max(0.0, other[0] - self[2], self[0] - other[2])
        dy = max(0.0, other[1] - self[3], self[1] - other[3])
        return max(dx, dy) if dx == 0 or dy == 0 else (dx * dx + dy * dy) ** 0.5

    def grown(self, d: float) -> Rect:
        return Rect(self[0] - d, self[1] - d, self[2] + d, self[3] + d)

    def contains(self, other) -> bool:
        return self[0] <= other[0] and self[1] <= other[1] and self[2] >= other[2] and self[3] >= other[3]

    def near(self, other, d: float) -> bool:
        """Within `d` points of each other on both axes."""
        return (
            self[0] - d <= other[2]
            and other[0] - d <= self[2]
            and self[1] - d <= other[3]
            and other[1] - d <= self[3]
        )


def union_all(rects) -> Rect | None:
    out = None
    for r in rects:
        out = Rect.of(r) if out is None else out.union(r)
    return out
