"""How fast the review page opens in headless chromium, for a site written by `scitune-curate review`.

    python -m benchmarks.review_open SITE [--runs 5]               # an existing review site
    python -m benchmarks.review_open --synthetic 100000 WORK       # N drawn rows: build OUT and site first
    python -m benchmarks.review_open out/examples/review --runs 1 --screenshot examples/review.png  # README's

Each run opens SITE/index.html from disk in a fresh browser context (no cache) and times, wall clock,
(a) the `load` event and (b) the first page of cards rendered with every visible image decoded (the
page sets `body[data-ready]` after rendering; the visible images are then awaited). Prints the median
and the range of the runs. The browser is Debian's chromium (`/usr/bin/chromium`) driven by playwright.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VISIBLE_IMAGES = """() => Promise.all([...document.querySelectorAll('article.card img')]
  .filter(i => { const r = i.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })
  .map(i => i.decode().then(() => i.naturalWidth)))"""


def synthetic_site(rows: int, work: Path) -> Path:
    """An OUT of `rows` drawn figure rows (100 per paper) and its review site."""
    from scitune.curate.review import build_review
    from tests.curate.sample_figures import draw_plot, figure_row, make_out

    images = [draw_plot(kind, seed) for kind in ("line_plot", "bar_chart", "diagram") for seed in range(20)]
    data = (
        figure_row(f"paper{i // 100:05d}", i % 100 + 1, image=images[i % len(images)]) for i in range(rows)
    )
    out = make_out(work / "out", list(data), shard_rows=1000)
    start = time.monotonic()
    stats = build_review(out, work / "site")
    print(f"built the site of {stats.rows:,} rows in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return work / "site"


def screenshot(site: Path, chromium: str, path: Path) -> None:
    """The README's picture: the first cards with the first card's OCR words and mentions opened."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 980})
        page.goto((site / "index.html").resolve().as_uri())
        page.wait_for_selector("body[data-ready]")
        page.evaluate(VISIBLE_IMAGES)
        page.evaluate(
            "() => document.querySelectorAll('article.card')[0].querySelectorAll('details.more')"
            ".forEach(d => d.open = true)"
        )
        page.screenshot(path=str(path))
        browser.close()
    # 256 colours keep the PNG small; the page is flat colours and thumbnails
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def measure(site: Path, runs: int, chromium: str) -> dict:
    from playwright.sync_api import sync_playwright

    url = (site / "index.html").resolve().as_uri()
    loads, readies, cards = [], [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            start = time.monotonic()
            page.goto(url, wait_until="load")
            loads.append(time.monotonic() - start)
            page.wait_for_selector("body[data-ready]")
            page.evaluate(VISIBLE_IMAGES)
            readies.append(time.monotonic() - start)
            cards = page.locator("article.card").count()
            if errors:
                raise SystemExit(f"page errors: {errors}")
            context.close()
        browser.close()
    return {"load": loads, "ready": readies, "cards": cards}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="a review site, or with --synthetic a work folder")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=0, help="build a site of N drawn rows first")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--screenshot", type=Path, help="also save a screenshot of the first page here")
    args = parser.parse_args()
    site = synthetic_site(args.synthetic, args.path) if args.synthetic else args.path
    r = measure(site, args.runs, args.chromium)
    if args.screenshot:
        screenshot(site, args.chromium, args.screenshot)
    size = sum(
        f.stat().st_size for f in (site / "data").glob("*.js") if not f.name.startswith(("rows", "cap"))
    )
    print(f"site: {site} ({r['cards']} cards on the first page; summary+index {size / 1e6:.2f} MB)")
    for key in ("load", "ready"):
        values = r[key]
        print(
            f"{key:5s}: median {statistics.median(values):.3f} s "
            f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"
        )


if __name__ == "__main__":
    main()
