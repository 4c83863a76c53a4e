"""Child processes of a run (workers, ghostscript) never outlive it.

Two mechanisms, both needed:

- Each worker runs in its own process group, and the parent ends a worker by killing the whole group,
  so a ghostscript started by a worker that timed out dies with it (killing the worker alone left an
  endless-loop EPS running).
- A `kill -9` of the main process runs no clean-up of its own. Workers are children of the forkserver,
  not of the main process, and each holds the forkserver's "alive" pipe, so neither notices on its own:
  each worker watches the main process (`end_with`) and ends its own group when it is gone; the
  forkserver and the resource tracker then see their pipes close and exit. Ghostscript also asks the
  kernel for SIGKILL when its worker dies (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Ask for SIGKILL when the parent process ends (Linux; a no-op elsewhere). Safe in preexec_fn."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    # The parent may have died before prctl took effect: then we were re-parented already.
    if os.getppid() == 1:
        os._exit(1)


def own_group() -> None:
    """Make this process the leader of a new process group (its children join it)."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (a worker and everything it started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # Linux >= 5.3: readable when the process ends, no polling
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
        return
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(1.0)


def end_with(pid: int) -> None:
    """In a worker: kill this process group (the worker and its children) when process `pid` ends."""

    def watch() -> None:
        _wait_for_exit(pid)
        kill_group(os.getpgid(0))

    threading.Thread(target=watch, name="end-with-run", daemon=True).start()
