"""Scale evidence for `extract` (issue 13): throughput per worker, flat memory, local vs Ray, kill -9 of Ray.

    python benchmarks/scale.py --n 2000 --small 200 --work /tmp/scale            # everything
    python benchmarks/scale.py --n 2000 --only throughput --repeat 3              # one part
    python benchmarks/scale.py --n 2000 --only memory,ray,ray-kill

Inputs come from benchmarks/synthetic_papers.py (seeded: the same bytes every time), written once into
WORK/corpus-N. Each measured run is a fresh `scitune-curate extract` process on a fresh OUT:

- throughput: N papers with --workers 1 and --workers 2 (median of --repeat runs): pages/s, and the ratio;
- memory: peak of the whole run (the main process, the forkserver, the workers: summed proportional set
  size, sampled every 0.2 s from /proc) at N = --small and N = --n, --workers 2; flat means within 10 %;
- ray: the same N with --engine ray --workers 2; the row sets (figure_id, caption, image hash, errors) of
  local and Ray must be identical;
- ray-kill: a Ray run is killed with SIGKILL (the driver only) after a third of its commits, then re-run;
  its rows must equal the local ones, none lost, none duplicated.

Results: WORK/scale.json and a Markdown table on stdout (the README's table). The machine is whatever runs
this; say how busy it was when quoting the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_papers import write_papers  # noqa: E402

PARTS = ("throughput", "memory", "ray", "ray-kill")


def corpus(work: Path, n: int, seed: int) -> Path:
    folder = work / f"corpus-{n}"
    jobs = max(1, os.cpu_count() or 1)
    bounds = [(folder, min(n, (k + 1) * n // jobs), seed, k * n // jobs) for k in range(jobs)]
    with mp.get_context("spawn").Pool(jobs) as pool:
        pool.starmap(write_papers, bounds)
    return folder


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [pid], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_extract(
    inputs: Path, out: Path, *extra: str, kill_after_commits: int | None = None, fresh: bool = True
) -> dict:
    """One extract process (on a fresh OUT unless `fresh` is False); wall time, pages/s from its summary,
    peak summed PSS of its process tree."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    args = [
        sys.executable,
        "-m",
        "scitune.curate.cli",
        "extract",
        str(inputs),
        "-o",
        str(out),
        "--no-progress",
    ]
    args += list(extra)
    start = time.monotonic()
    # stderr to a file, not a pipe: a pipe nobody reads while sampling fills up and blocks the run
    log = out.with_name(out.name + ".stderr.log")
    log_file = open(log, "a")  # noqa: SIM115 - closed below, after the process ends
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    peak = 0
    manifests = out / ".scitune" / "manifests"
    killed = False
    while proc.poll() is None:
        peak = max(peak, sum(_pss_kb(p) for p in _tree(proc.pid)))
        if kill_after_commits is not None and manifests.is_dir():
            if len(list(manifests.glob("*.json"))) >= kill_after_commits:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
        time.sleep(0.2)
    proc.wait()
    log_file.close()
    stderr = log.read_text(errors="replace")
    seconds = time.monotonic() - start
    result = {"seconds": seconds, "peak_mb": peak / 1024, "returncode": proc.returncode, "killed": killed}
    runs = sorted((out / ".scitune" / "runs").glob("*.json")) if not killed else []
    if runs:
        summary = json.loads(runs[-1].read_text())
        result.update(pages=summary["pages"], processed=summary["processed"], skipped=summary["skipped"])
        result["pages_s"] = summary["pages"] / seconds
    elif not killed:
        result["stderr"] = stderr[-2000:]
    return result


def row_set(out: Path) -> set[tuple]:
    rows = set()
    for table in ("figures", "errors"):
        for shard in sorted((out / table).glob("*.parquet")):
            for r in pq.read_table(shard).to_pylist():
                if table == "figures":
                    image = hashlib.sha256(r["image"]["bytes"]).hexdigest()
                    rows.add(
                        ("figure", r["figure_id"], r["caption"], r["page"], image, tuple(r["paragraphs"]))
                    )
                else:
                    rows.add(("error", r["input"], r["stage"], r["error"], r["message"]))
    return rows


def figure_count(out: Path) -> int:
    return sum(pq.ParquetFile(s).metadata.num_rows for s in (out / "figures").glob("*.parquet"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per throughput setting (median reported)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/scitune-scale"))
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {', '.join(PARTS)}")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    big = corpus(work, args.n, args.seed)
    report: dict = {
        "n": args.n,
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}",
        "load_average_at_start": os.getloadavg(),
        "corpus_seconds": time.monotonic() - t0,
    }
    print(f"corpus of {args.n} papers ready ({report['corpus_seconds']:.0f} s); load {os.getloadavg()}")

    if "throughput" in parts:
        for w in (1, 2):
            runs = [run_extract(big, work / f"out-w{w}", "--workers", str(w)) for _ in range(args.repeat)]
            report[f"workers_{w}"] = runs
            print(f"workers={w}: {[round(r.get('pages_s', 0), 2) for r in runs]} pages/s")
        m1 = statistics.median(r["pages_s"] for r in report["workers_1"])
        m2 = statistics.median(r["pages_s"] for r in report["workers_2"])
        report["pages_s_1"], report["pages_s_2"], report["scaling"] = m1, m2, m2 / m1

    if "memory" in parts:
        small = corpus(work, args.small, args.seed)
        report["memory_small"] = run_extract(small, work / "out-mem-small", "--workers", "2")
        report["memory_big"] = report.get("workers_2", [None])[0] or run_extract(
            big, work / "out-w2", "--workers", "2"
        )
        ratio = report["memory_big"]["peak_mb"] / report["memory_small"]["peak_mb"]
        report["memory_ratio"] = ratio
        print(f"peak memory: N={args.small} {report['memory_small']['peak_mb']:.0f} MB, N={args.n} "
              f"{report['memory_big']['peak_mb']:.0f} MB (x{ratio:.3f})")  # fmt: skip

    local = work / "out-w2"
    if parts & {"ray", "ray-kill"} and not (local / "figures").is_dir():
        run_extract(big, local, "--workers", "2")
    if "ray" in parts:
        report["ray"] = run_extract(big, work / "out-ray", "--engine", "ray", "--workers", "2")
        report["ray_identical"] = row_set(work / "out-ray") == row_set(local)
        print(
            f"ray: {report['ray'].get('pages_s', 0):.2f} pages/s, identical rows: {report['ray_identical']}"
        )

    if "ray-kill" in parts:
        out = work / "out-ray-kill"
        commits = max(2, args.n * 3 // 100 // 3)  # ~3 rows a paper, --shard-rows 100: a third of the commits
        first = run_extract(
            big, out, "--engine", "ray", "--workers", "2", "--shard-rows", "100", kill_after_commits=commits
        )
        second = run_extract(
            big, out, "--engine", "ray", "--workers", "2", "--shard-rows", "100", fresh=False
        )
        report["ray_kill"] = {"first": first, "rerun": second}
        same = row_set(out) == row_set(local)
        report["ray_kill_identical"] = same and figure_count(out) == figure_count(local)
        print(f"ray kill -9 after {commits} commits, re-run: identical rows: {report['ray_kill_identical']}")

    report["load_average_at_end"] = os.getloadavg()
    (work / "scale.json").write_text(json.dumps(report, indent=1))
    print(f"\nresults: {work / 'scale.json'}")


if __name__ == "__main__":
    main()
