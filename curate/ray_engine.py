"""`extract --engine ray`: the same per-document work as the local engine, as Ray tasks on a cluster.

Ray schedules; we do not. Each document is one Ray task (`num_cpus=1`), and inside it the document
runs exactly as on the local engine: in a forked child under the same time limit and memory cap
(`runner.run_documents` with one worker), so one huge or hostile document costs one error row on a
cluster too. Results come back to the driver, which alone writes OUT through the same `RunWriter`
(shards bounded in rows and bytes, manifest written last): resume by content hash, no duplicate rows
when Ray retries a task or the driver is killed and re-run, because a task never writes OUT itself.

The driver keeps a bounded number of tasks in flight (`IN_FLIGHT_PER_CPU` per cluster CPU), so its
memory does not grow with the corpus. Inputs must be readable at the same paths on every node (a
shared file system: NFS, EFS, a mounted bucket); scratch space is a temporary folder on each node.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from .document import Options, Result
from .inputs import Document
from .rows import error_row

IN_FLIGHT_PER_CPU = 2  # enough queued work to keep every CPU busy while results stream back
TASK_RETRIES = 2  # a node lost mid-task: Ray runs the document again elsewhere (the driver commits once)


def _import_ray():
    try:
        import ray  # optional extra: scitune[ray]
    except ImportError:
        from .runner import RunError

        raise RunError(
            "--engine ray needs Ray, which is not installed: pip install 'scitune[ray]' "
            "(or use the default --engine local)",
            2,
        ) from None
    return ray


def process_on_node(doc: Document, opts: Options, timeout: float, max_memory_mb: int) -> Result:
    """One document inside a Ray task: the local engine's child process, limits included."""
    from .runner import run_documents

    scratch = Path(tempfile.mkdtemp(prefix="scitune-ray-"))
    try:
        return next(run_documents([doc], replace(opts, workdir=scratch), 1, timeout, max_memory_mb))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _task_failed(doc: Document, e: BaseException) -> Result:
    message = (
        f"the Ray task processing this document failed after {TASK_RETRIES} retries ({type(e).__name__}: "
        f"{str(e).splitlines()[0][:300] if str(e) else ''}); a node may have been lost. Re-run to retry it."
    )
    row = error_row(doc.input, doc.key, "crash", "ray_task", message, doc.paper_id)
    return Result(doc.key, doc.paper_id, errors=[row])


def run_documents_ray(
    docs: list[Document],
    opts: Options,
    workers: int,
    timeout: float,
    max_memory_mb: int,
    address: str | None = None,
) -> Iterator[Result]:
    """Yield one `Result` per document, in completion order, computed by Ray tasks.

    Without `address` (and without RAY_ADDRESS) a local Ray with `workers` CPUs is started and shut
    down with the run; with one, the run joins that cluster and uses all of its CPUs.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        local = address is None and not os.environ.get("RAY_ADDRESS")
        ray.init(
            address=address,
            num_cpus=workers if local else None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            ignore_reinit_error=True,
        )
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(process_on_node)
    cpus = int(ray.cluster_resources().get("CPU", workers)) or 1
    limit = max(2, IN_FLIGHT_PER_CPU * cpus)
    queue = deque(docs)
    pending: dict = {}
    # Options travel without the driver's scratch folder: each task makes its own on its node.
    remote_opts = replace(opts, workdir=None)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                doc = queue.popleft()
                pending[task.remote(doc, remote_opts, timeout, max_memory_mb)] = doc
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                doc = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a lost task is one error row, not the run
                    result = _task_failed(doc, e)
                yield result
    finally:
        for ref in pending:  # stopped early (Ctrl-C, a write error): no task keeps running for us
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
