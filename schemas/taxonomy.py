"""The figure-type taxonomy used by the `figure_type` column.

The classes follow the ones annotated in the scitune gold sets (chart types split finely
because chart captioning differs by type), plus `table` for floats of kind `table`.
`SCICAP_TYPE_MAP` folds them onto the coarse classes of SciCap (Hsu et al., 2021, after
FigureSeer), so SciCap and SciTune code that filters on those names can reuse our rows.
"""

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

# Coarse classes of SciCap / the SciCap Challenge `figure_type` field.
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

assert set(SCICAP_TYPE_MAP) == set(FIGURE_TYPES)
