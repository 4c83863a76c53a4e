"""LaTeX side: one source (folder or arXiv bundle) -> every figure and table with exact captions.

Entry point: `extract.extract_latex(source, workdir, dpi)`. The flow, one file per step:
project.py (main file, input tree, comments) -> macros.py (user macros) -> text.parse (pylatexenc)
-> floats.py + numbering.py (floats, numbers, labels, paragraphs) -> text.py + cites.py (plain text)
-> refs.py (mentions) -> graphics.py (files, rendering, layout). archives.py (one level up) unpacks
untrusted bundles.
"""
