"""The figure-type taxonomy of the `figure_type` column, in two levels, and its mappings to other label sets.

Fine classes (`FIGURE_TYPES`) are the ones annotated in the scitune gold sets (chart types split finely
because chart captioning differs by type), plus `table` for floats of kind `table`. Each fine class has one
coarse class (`COARSE_OF`): `plot`, `diagram`, `image`, `table` or `text`.

Mappings, both ways, so users can translate labels (`to_scheme`, `from_scheme`):

- SciCap (Hsu et al., 2021) / the SciCap Challenge `figure-type` field: its coarse names as its records
  spell them (`Graph Plot`, `Node Diagram`, ...; `SCICAP_TYPES`).
- DocFigure (Jobin, Mondal and Jawahar, ICDAR 2019): 28 classes (`DOCFIGURE_TYPES`).
- ACL-Fig (Karishma et al., 2023; the ACL-Fig-Pilot set): 19 classes (`ACLFIG_TYPES`).
- docling's picture classifier (DocumentFigureClassifier, `PICTURE_CLASSIFIER_NUM_CLASSES = 26`): 26 classes
  (`DOCLING_TYPES`).

`from_scheme` is exact where the other scheme's class is ours or narrower (DocFigure's "Confusion matrix" is
a `heatmap`); `to_scheme` gives the nearest class of the other scheme, which is coarser for some of ours
(our `histogram` is a DocFigure "Histogram" but an ACL-Fig "Bar charts"). Classes of other schemes that
have no counterpart here (docling's `logo`, `stamp`, `qr_code`, ...) map to `other`.
"""

from __future__ import annotations

COARSE_TYPES: dict[str, str] = {
    "plot": "A chart of data over axes or proportions.",
    "diagram": "Drawn structure: boxes and arrows, schematics, illustrations.",
    "image": "Pixels of the world or of a screen: photographs, maps, screenshots.",
    "table": "Rows and columns of values.",
    "text": "Text set as a figure: code, algorithms, equations.",
}

FIGURE_TYPES: dict[str, str] = {
    "line_plot": "Lines or curves over continuous axes (time series, spectra, learning curves).",
    "scatter_plot": "Unconnected markers over two continuous axes.",
    "bar_chart": "Bars over categories, grouped or stacked.",
    "histogram": "Bars over binned continuous values, or a density estimate.",
    "box_plot": "Box-and-whisker or violin plots.",
    "heatmap": (
        "A colour-coded matrix or 2-D field (confusion matrix, correlation map, image of a 2-D function)."
    ),
    "pie_chart": "Pie or donut charts.",
    "area_chart": "Filled areas over an axis, stacked or not.",
    "other_plot": "A chart with axes not covered above (contours, corner plots, polar, 3-D surfaces).",
    "diagram": "Boxes and arrows: architectures, flowcharts, block diagrams, graphs of nodes and edges.",
    "illustration": "A drawn schematic of a physical thing or an idea (apparatus, geometry, cartoon).",
    "photo": "A photograph or microscope, telescope or camera image.",
    "map": "A geographic map or a sky map.",
    "screenshot": "A capture of a software user interface.",
    "table_as_figure": "A table typeset as an image inside a figure float.",
    "equation_or_algorithm": "Equations, pseudocode or an algorithm box shown as a figure.",
    "code_listing": "Source code shown as a figure.",
    "other": "Anything else, or a figure the classifier could not place.",
    "table": "A table float (kind `table`).",
}

COARSE_OF: dict[str, str] = {
    "line_plot": "plot",
    "scatter_plot": "plot",
    "bar_chart": "plot",
    "histogram": "plot",
    "box_plot": "plot",
    "heatmap": "plot",
    "pie_chart": "plot",
    "area_chart": "plot",
    "other_plot": "plot",
    "diagram": "diagram",
    "illustration": "diagram",
    "photo": "image",
    "map": "image",
    "screenshot": "image",
    "table_as_figure": "table",
    "table": "table",
    "equation_or_algorithm": "text",
    "code_listing": "text",
    "other": "image",  # what is neither chart, drawing, table nor text is most often a picture
}

# --- SciCap: coarse classes ---
# ours -> SciCap (kept under its historical name: exports.py writes it into SciCap-style JSON)
SCICAP_TYPE_MAP: dict[str, str] = {
    "line_plot": "Graph Plot",
    "scatter_plot": "Scatterplot",
    "bar_chart": "Bar Chart",
    "histogram": "Bar Chart",
    "box_plot": "Graph Plot",
    "heatmap": "Graph Plot",
    "pie_chart": "Pie Chart",
    "area_chart": "Graph Plot",
    "other_plot": "Graph Plot",
    "diagram": "Node Diagram",
    "illustration": "Other",
    "photo": "Photo",
    "map": "Photo",
    "screenshot": "Photo",
    "table_as_figure": "Table",
    "equation_or_algorithm": "Equation",
    "code_listing": "Equation",
    "other": "Other",
    "table": "Table",
}
SCICAP_TO_FINE: dict[str, str] = {
    "Graph Plot": "line_plot",
    "Scatterplot": "scatter_plot",
    "Bar Chart": "bar_chart",
    "Pie Chart": "pie_chart",
    "Node Diagram": "diagram",
    "Photo": "photo",
    "Equation": "equation_or_algorithm",
    "Table": "table_as_figure",
    "Other": "other",
}

# --- DocFigure: 28 classes (names as in the paper's Fig. 1) ---
DOCFIGURE_TO_FINE: dict[str, str] = {
    "Line graph": "line_plot",
    "Natural image": "photo",
    "Table": "table_as_figure",
    "3D object": "illustration",
    "Bar plot": "bar_chart",
    "Scatter plot": "scatter_plot",
    "Medical image": "photo",
    "Sketch": "illustration",
    "Geographic map": "map",
    "Flow chart": "diagram",
    "Heat map": "heatmap",
    "Mask": "photo",  # segmentation masks shown as images
    "Block diagram": "diagram",
    "Venn diagram": "diagram",
    "Confusion matrix": "heatmap",
    "Histogram": "histogram",
    "Box plot": "box_plot",
    "Vector plot": "other_plot",
    "Pie chart": "pie_chart",
    "Surface plot": "other_plot",
    "Algorithm": "equation_or_algorithm",
    "Contour plot": "other_plot",
    "Tree diagram": "diagram",
    "Bubble chart": "scatter_plot",
    "Polar plot": "other_plot",
    "Area chart": "area_chart",
    "Pareto chart": "bar_chart",
    "Radar chart": "other_plot",
}
FINE_TO_DOCFIGURE: dict[str, str] = {
    "line_plot": "Line graph",
    "scatter_plot": "Scatter plot",
    "bar_chart": "Bar plot",
    "histogram": "Histogram",
    "box_plot": "Box plot",
    "heatmap": "Heat map",
    "pie_chart": "Pie chart",
    "area_chart": "Area chart",
    "other_plot": "Contour plot",
    "diagram": "Block diagram",
    "illustration": "Sketch",
    "photo": "Natural image",
    "map": "Geographic map",
    "screenshot": "Natural image",
    "table_as_figure": "Table",
    "equation_or_algorithm": "Algorithm",
    "code_listing": "Algorithm",
    "other": "Natural image",
    "table": "Table",
}

# --- ACL-Fig(-Pilot): 19 classes (names as in its dataset card) ---
ACLFIG_TO_FINE: dict[str, str] = {
    "Algorithms": "equation_or_algorithm",
    "Architecture/Pipeline diagrams": "diagram",
    "Bar charts": "bar_chart",
    "Box Plots": "box_plot",
    "Confusion Matrix": "heatmap",
    "Graph": "diagram",  # node-link graphs
    "Line Chart": "line_plot",
    "Maps": "map",
    "Natural Images": "photo",
    "Neural Networks": "diagram",
    "NLP rules/grammar": "equation_or_algorithm",
    "Pie chart": "pie_chart",
    "Scatter Plot": "scatter_plot",
    "Screenshots": "screenshot",
    "Tables": "table_as_figure",
    "Trees": "diagram",
    "Pareto chart": "bar_chart",
    "Venn Diagram": "diagram",
    "Word Cloud": "other",
}
FINE_TO_ACLFIG: dict[str, str] = {
    "line_plot": "Line Chart",
    "scatter_plot": "Scatter Plot",
    "bar_chart": "Bar charts",
    "histogram": "Bar charts",
    "box_plot": "Box Plots",
    "heatmap": "Confusion Matrix",
    "pie_chart": "Pie chart",
    "area_chart": "Line Chart",
    "other_plot": "Line Chart",
    "diagram": "Architecture/Pipeline diagrams",
    "illustration": "Architecture/Pipeline diagrams",
    "photo": "Natural Images",
    "map": "Maps",
    "screenshot": "Screenshots",
    "table_as_figure": "Tables",
    "equation_or_algorithm": "Algorithms",
    "code_listing": "Algorithms",
    "other": "Natural Images",
    "table": "Tables",
}

# --- docling's picture classifier: 26 classes (its label ids 0-25) ---
DOCLING_TO_FINE: dict[str, str] = {
    "logo": "other",
    "photograph": "photo",
    "icon": "other",
    "engineering_drawing": "illustration",
    "line_chart": "line_plot",
    "bar_chart": "bar_chart",
    "other": "other",
    "table": "table_as_figure",
    "flow_chart": "diagram",
    "screenshot_from_computer": "screenshot",
    "signature": "other",
    "screenshot_from_manual": "screenshot",
    "geographical_map": "map",
    "pie_chart": "pie_chart",
    "page_thumbnail": "other",
    "stamp": "other",
    "music": "other",
    "calendar": "table_as_figure",
    "qr_code": "other",
    "bar_code": "other",
    "full_page_image": "photo",
    "scatter_plot": "scatter_plot",
    "chemistry_structure": "illustration",
    "topographical_map": "map",
    "crossword_puzzle": "other",
    "box_plot": "box_plot",
}
FINE_TO_DOCLING: dict[str, str] = {
    "line_plot": "line_chart",
    "scatter_plot": "scatter_plot",
    "bar_chart": "bar_chart",
    "histogram": "bar_chart",
    "box_plot": "box_plot",
    "heatmap": "other",
    "pie_chart": "pie_chart",
    "area_chart": "line_chart",
    "other_plot": "other",
    "diagram": "flow_chart",
    "illustration": "engineering_drawing",
    "photo": "photograph",
    "map": "geographical_map",
    "screenshot": "screenshot_from_computer",
    "table_as_figure": "table",
    "equation_or_algorithm": "other",
    "code_listing": "screenshot_from_computer",
    "other": "other",
    "table": "table",
}

SCHEMES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "scicap": (SCICAP_TYPE_MAP, SCICAP_TO_FINE),
    "docfigure": (FINE_TO_DOCFIGURE, DOCFIGURE_TO_FINE),
    "aclfig": (FINE_TO_ACLFIG, ACLFIG_TO_FINE),
    "docling": (FINE_TO_DOCLING, DOCLING_TO_FINE),
}
SCICAP_TYPES = tuple(SCICAP_TO_FINE)
DOCFIGURE_TYPES = tuple(DOCFIGURE_TO_FINE)
ACLFIG_TYPES = tuple(ACLFIG_TO_FINE)
DOCLING_TYPES = tuple(DOCLING_TO_FINE)


def coarse_type(fine: str) -> str:
    """The coarse class (`plot`, `diagram`, `image`, `table`, `text`) of a fine class."""
    return COARSE_OF[fine]


def to_scheme(fine: str, scheme: str) -> str:
    """Our fine class as the nearest class of `scheme` (`scicap`, `docfigure`, `aclfig`, `docling`)."""
    return SCHEMES[scheme][0][fine]


def from_scheme(label: str, scheme: str) -> str:
    """A class of `scheme` as our fine class (`other` for classes we do not have)."""
    return SCHEMES[scheme][1][label]


assert set(COARSE_OF) == set(FIGURE_TYPES) and set(COARSE_OF.values()) == set(COARSE_TYPES)
for _to, _from in SCHEMES.values():
    assert set(_to) == set(FIGURE_TYPES) and set(_to.values()) <= set(_from)
    assert set(_from.values()) <= set(FIGURE_TYPES)
assert len(DOCFIGURE_TYPES) == 28 and len(ACLFIG_TYPES) == 19 and len(DOCLING_TYPES) == 26
