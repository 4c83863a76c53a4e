"""`scitune-curate review`: the site written from the bundled examples, driven in a real headless chromium.

The browser is Debian's chromium (installed by `make test`), driven through playwright's Python API with
`executable_path`; nothing is downloaded at test time. Without a browser these tests skip and say why.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scitune.curate.review import MARKER, build_review, make_server, read_reject_list
from tests.conftest import EXAMPLES

CHROMIUM = os.environ.get("SCITUNE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# The flags that work on a headless CI box (no GPU, no user namespace sandbox for root, no network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def figure_rows(out: Path) -> list[dict]:
    return [
        r
        for f in sorted((out / "figures").glob("*.parquet"))
        for r in pq.read_table(f, columns=["figure_id", "figure_type", "caption"]).to_pylist()
    ]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """The bundled examples plus one input that fails, extracted through the CLI."""
    root = tmp_path_factory.mktemp("review")
    papers = root / "papers"
    shutil.copytree(EXAMPLES, papers)
    (papers / "broken.pdf").write_text("not a PDF")
    out = root / "out"
    result = cli("extract", str(papers), "-o", str(out), "--workers", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def site(dataset) -> Path:
    result = cli("review", str(dataset), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "14 floats from 2 papers, 1 error row;" in result.stderr
    return dataset / "review"


def read_data(site: Path, name: str):
    """The data a `SCITUNE.summary(...)`, `.index(...)` or `.chunk(n, ...)` script hands to the page."""
    text = (site / "data" / name).read_text(encoding="utf-8")
    args = text[text.index("(") + 1 : text.rindex(")")]
    return json.loads(args.split(",", 1)[1] if name.startswith(("rows-", "captions-")) else args)


def test_site_is_written_from_the_dataset(site, dataset):
    assert (site / "index.html").is_file() and (site / MARKER).is_file()
    summary = read_data(site, "summary.js")
    assert summary["rows"] == 14 and summary["errors"] == {"rows": 1, "groups": 1}
    assert {p["id"]: p["figures"] for p in summary["papers"]} == {"dynonet": 6, "legwork": 8}
    assert {p["id"]: p["pages"] for p in summary["papers"]} == {"dynonet": 19, "legwork": 17}
    assert summary["noPdf"] == {}  # the inputs are reachable: every card has its page
    rows = read_data(site, "rows-00000.js")
    by_id = {r["id"]: r for r in rows}
    f1 = by_id["dynonet/figure1"]
    assert f1["caption"].startswith("Figure 1: Classic block-oriented architectures")
    assert f1["page"] == 3 and f1["pageImg"]["w"] == 612 and f1["crop"]["src"].startswith("img/c/")
    assert any("See Figure 1 for a visual representation" in m for m in f1["mentions"])
    # the classifier's confidence travels with its class
    assert f1["type"] == "diagram" and 0 < f1["typeScore"] <= 1 and summary["hasTypeScore"] is True
    for r in rows:
        assert (site / r["crop"]["src"]).is_file() and (site / r["pageImg"]["src"]).is_file()
    index = read_data(site, "index.js")
    assert len(index["type"]) == 14 and set(index) >= {"kind", "type", "source", "paper", "flags"}


def test_type_score_is_shown_and_flags_low_confidence_when_the_column_exists(tmp_path):
    """`figure_type_score` comes with a later schema version: the page shows it once shards carry it."""
    import pyarrow as pa

    from tests.curate.sample_figures import make_out

    out = make_out(tmp_path / "out", shard_rows=100)
    shard = next((out / "figures").glob("*.parquet"))
    table = pq.read_table(shard)
    scores = [0.92, 0.31, None, 0.75, 0.5, 0.05][: table.num_rows]
    pq.write_table(table.append_column("figure_type_score", pa.array(scores, pa.float32())), shard)
    build_review(out, tmp_path / "site")
    summary = read_data(tmp_path / "site", "summary.js")
    assert summary["hasTypeScore"] is True
    rows = read_data(tmp_path / "site", "rows-00000.js")
    assert [r["typeScore"] for r in rows] == [0.92, 0.31, None, 0.75, 0.5, 0.05]
    index = read_data(tmp_path / "site", "index.js")
    low = [bool(f & 1) for f in index["flags"]]  # FLAG_LOW_TYPE: below LOW_TYPE_SCORE (0.5)
    assert low == [False, True, False, False, False, True]
    assert index["tscore"] == [92, 31, -1, 75, 50, 5]


def test_crop_only_when_the_pdf_is_not_reachable(dataset, tmp_path):
    papers = dataset.parent / "papers"
    papers.rename(dataset.parent / "moved")  # the rows' provenance.input no longer exists
    try:
        stats = build_review(dataset, tmp_path / "site")
    finally:
        (dataset.parent / "moved").rename(papers)
    assert stats.rows == 14 and stats.crops == 14 and stats.page_thumbs == 0
    assert set(stats.no_pdf) == {"dynonet", "legwork"}
    assert "is not reachable from here" in stats.no_pdf["dynonet"]
    assert "crop-only" in " ".join(stats.lines(tmp_path / "site"))


def test_review_refuses_a_folder_that_is_not_a_review_site(dataset, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = cli("review", str(dataset), "-o", str(mine), "--no-progress")
    assert result.returncode == 2
    assert "is not a review site" in result.stderr
    assert (mine / "notes.txt").read_text() == "keep me" and not (mine / "index.html").exists()


def test_reject_list_file_drives_filter_exclude(dataset, tmp_path):
    reject = tmp_path / "rejected.txt"
    reject.write_text("# scitune review\n\ndynonet/figure1\nlegwork/figure2\nnot/in-this-dataset\n")
    assert read_reject_list(reject) == {"dynonet/figure1", "legwork/figure2", "not/in-this-dataset"}
    result = cli(
        "filter", str(dataset), "-o", str(tmp_path / "clean"), "--exclude", str(reject), "--no-progress"
    )
    assert result.returncode == 0, result.stderr
    assert "kept 12 of 14 figure rows (2 excluded by the list)" in result.stderr
    assert "1 ids of the exclude list are not in OUT" in result.stderr
    kept = {r["figure_id"] for r in figure_rows(tmp_path / "clean")}
    assert len(kept) == 12 and not kept & {"dynonet/figure1", "legwork/figure2"}


# --- in a real browser ---


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip(
            "no chromium found: install Debian's chromium (`apt-get install chromium`; `make test` does)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page of the site with its console errors collected."""

    def __init__(self, browser, url: str, tmp_path: Path):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.goto(url)
        self.wait()

    def wait(self):
        self.page.wait_for_selector("body[data-ready]")

    def cards(self) -> list[str]:
        return self.page.eval_on_selector_all("article.card", "cards => cards.map(c => c.dataset.id)")

    def change(self, selector: str, value: str) -> None:
        before = self.page.get_attribute("body", "data-ready")
        self.page.select_option(selector, value)
        self.page.wait_for_function(f"document.body.dataset.ready !== {before!r}")

    def close(self):
        self.context.close()


@pytest.fixture
def page(browser, site, tmp_path):
    p = Page(browser, (site / "index.html").as_uri(), tmp_path)
    yield p
    p.close()


def test_page_loads_from_disk_without_console_errors_and_every_image_decodes(page, site):
    assert len(page.cards()) == 14
    assert page.page.locator("#shown").text_content() == "showing 1–14 of 14 floats"
    sizes = page.page.evaluate(
        """() => Promise.all([...document.querySelectorAll('article.card img')].map(img => {
             img.loading = 'eager';
             return img.decode().then(() => [img.className, img.naturalWidth, img.naturalHeight]);
           }))"""
    )
    assert (
        len([s for s in sizes if s[0] == "crop"]) == 14
        and len([s for s in sizes if s[0] == "page-img"]) == 14
    )
    assert all(w > 20 and h > 20 for _, w, h in sizes)
    assert page.page.locator(".bbox").count() == 14
    counts = page.page.locator("#counts").inner_text()
    assert "14\nfloats" in counts and "2\npapers" in counts and "1\nerror rows" in counts
    assert page.errors == []


def test_filters_and_search_change_what_is_shown(page, dataset):
    rows = figure_rows(dataset)
    line_plots = {r["figure_id"] for r in rows if r["figure_type"] == "line_plot"}
    assert line_plots and len(line_plots) < 14
    page.change("#f-type", "line_plot")
    assert set(page.cards()) == line_plots
    page.change("#f-type", "")
    page.change("#f-paper", "legwork")
    assert {c.split("/")[0] for c in page.cards()} == {"legwork"} and len(page.cards()) == 8
    assert "paper=legwork" in page.page.url  # the view is a link
    page.change("#f-paper", "")
    page.change("#f-joined", "one")
    assert page.cards() == [] and "No float matches" in page.page.locator("#cards").inner_text()
    page.change("#f-joined", "")
    before = page.page.get_attribute("body", "data-ready")
    page.page.fill("#f-q", "hammerstein")
    page.page.wait_for_function(f"document.body.dataset.ready !== {before!r}")
    expected = {r["figure_id"] for r in rows if "hammerstein" in r["caption"].lower()}
    assert expected and set(page.cards()) == expected
    before = page.page.get_attribute("body", "data-ready")
    page.page.fill("#f-q", "")
    page.page.wait_for_function(f"document.body.dataset.ready !== {before!r}")
    page.change("#f-size", "paper")
    assert {c.split("/")[0] for c in page.cards()} == {"dynonet"}
    page.page.locator("#pager-top button", has_text="2").click()
    page.page.wait_for_function("document.querySelector('article.card').dataset.id.startsWith('legwork')")
    assert {c.split("/")[0] for c in page.cards()} == {"legwork"}
    # a link to a view (or an edited URL) shows that view
    before = page.page.get_attribute("body", "data-ready")
    page.page.evaluate("() => { location.hash = 'type=line_plot'; }")
    page.page.wait_for_function(f"document.body.dataset.ready !== {before!r}")
    assert set(page.cards()) == line_plots and page.page.input_value("#f-type") == "line_plot"
    assert page.errors == []


def test_rejects_download_as_a_list_that_filter_reads(page, dataset, tmp_path):
    page.page.locator('article[data-id="dynonet/figure2"] button.reject').click()
    page.page.locator('article[data-id="legwork/figure5"] button.reject').click()
    assert page.page.locator("#reject-count").text_content() == "2 rejected"
    with page.page.expect_download() as info:
        page.page.click("#reject-download")
    path = tmp_path / "rejected.txt"
    info.value.save_as(path)
    assert info.value.suggested_filename == "rejected.txt"
    assert read_reject_list(path) == {"dynonet/figure2", "legwork/figure5"}
    page.change("#f-marked", "rejected")
    assert sorted(page.cards()) == ["dynonet/figure2", "legwork/figure5"]
    # marks survive a reload (kept in the browser for this dataset)
    page.page.reload()
    page.wait()
    assert page.page.locator("#reject-count").text_content() == "2 rejected"
    result = cli(
        "filter", str(dataset), "-o", str(tmp_path / "clean"), "--exclude", str(path), "--no-progress"
    )
    assert result.returncode == 0 and "kept 12 of 14" in result.stderr
    assert page.errors == []


def test_errors_tab_groups_by_stage_and_reason(page):
    page.page.click('button[data-tab="errors"]')
    page.page.wait_for_selector(".error-group")
    text = page.page.locator("#errors-body").inner_text()
    assert re.search(r"open\s+PdfOpenError\s+1 row\b", text), text
    assert "broken.pdf" in text and "not a PDF" in text
    assert page.page.locator("#tab-errors-n").text_content() == "1"
    page.page.click('button[data-tab="papers"]')
    assert "dynonet" in page.page.locator("#papers-body").inner_text()
    assert page.errors == []


def test_screenshot_shows_the_cards(page, tmp_path):
    """The page as a reviewer sees it: the crops and page thumbnails are painted, not blank boxes."""
    from PIL import Image, ImageStat

    page.page.evaluate(
        "() => Promise.all([...document.querySelectorAll('article.card img')].map(i => "
        "{ i.loading = 'eager'; return i.decode(); }))"
    )
    shot = Image.open(io.BytesIO(page.page.screenshot(full_page=False))).convert("L")
    assert shot.size == (1400, 1000)
    box = page.page.locator("article.card .crop-box").first.bounding_box()
    crop = shot.crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
    )
    assert ImageStat.Stat(crop).stddev[0] > 20, "the first crop is not painted"
    thumb = page.page.locator("article.card .page").first.bounding_box()
    region = shot.crop(
        (int(thumb["x"]), int(thumb["y"]), int(thumb["x"] + thumb["width"]), int(thumb["y"] + 60))
    )
    assert ImageStat.Stat(region).stddev[0] > 5, "the page thumbnail is not painted"


def test_served_on_localhost(browser, site, tmp_path):
    server = make_server(site, port=0)
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        p = Page(browser, f"http://127.0.0.1:{port}/", tmp_path)
        assert len(p.cards()) == 14 and p.errors == []
        p.close()
    finally:
        server.shutdown()
        server.server_close()


def test_large_dataset_opens_fast(browser, tmp_path):
    """5,000 rows (25 chunks): the first page shows without loading the other chunks, in well under 2 s."""
    from tests.curate.sample_figures import draw_plot, figure_row, make_out

    images = [draw_plot("line_plot", seed) for seed in range(10)]  # thumbnails are per distinct image
    rows = [figure_row(f"paper{i // 10:04d}", i % 10 + 1, image=images[i % 10]) for i in range(5000)]
    out = make_out(tmp_path / "big", rows, shard_rows=1000)
    stats = build_review(out, tmp_path / "site")
    assert stats.rows == 5000 and stats.chunks == 25
    start = time.monotonic()
    p = Page(browser, (tmp_path / "site" / "index.html").as_uri(), tmp_path)
    seconds = time.monotonic() - start
    assert len(p.cards()) == 60 and "of 5,000 floats" in p.page.locator("#shown").text_content()
    loaded = p.page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s.includes('rows-'))")
    assert len(loaded) == 1, loaded
    assert seconds < 2.0, f"first page took {seconds:.2f} s"
    assert p.errors == []
    p.close()


def test_review_serve_on_localhost_until_ctrl_c(site, dataset):
    """`review --serve --port 0`: the URL is printed, the site answers on 127.0.0.1, Ctrl-C stops it."""
    import signal
    import urllib.request

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scitune.curate.cli",
            "review",
            str(dataset),
            "--serve",
            "--port",
            "0",
            "--no-progress",
        ],
        stderr=subprocess.PIPE,
        text=True,
        # a test run started in the background inherits SIGINT ignored; Ctrl-C is what is tested here
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        url = None
        for line in proc.stderr:
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if match:
                url = match.group(1)
                break
        assert url, "no URL printed"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and b"scitune review" in response.read()
        with urllib.request.urlopen(url + "data/summary.js", timeout=30) as response:
            assert response.read().startswith(b"SCITUNE.summary(")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
