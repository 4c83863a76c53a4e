"""Curation: papers in (PDF, LaTeX source), validated figure and table records out.

Flow: inputs.py finds documents -> runner.py runs document.py per document in worker
processes -> pdf/ and latex/ find floats -> join.py merges both sides -> rows.py builds the
`figures` and `errors` rows (ids.py names papers and floats) -> writer.py commits Parquet shards.
"""
