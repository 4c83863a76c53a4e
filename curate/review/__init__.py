"""`scitune-curate review`: a static HTML site to look at every crop of an OUT folder before publishing.

build.py writes the site from the dataset (one streaming pass), images.py the thumbnails, serve.py
serves it on 127.0.0.1, rejects.py reads the reject list the page lets the user download (for
`filter --exclude`). The page itself is static/index.html, review.js and review.css.
"""

from .build import MARKER, ReviewStats, build_review, check_destination
from .rejects import read_reject_list
from .serve import make_server, serve

__all__ = [
    "MARKER",
    "ReviewStats",
    "build_review",
    "check_destination",
    "make_server",
    "read_reject_list",
    "serve",
]
