"""Child processes of a run (workers, ghostscript) never outlive it.

Two mechanisms, both needed:

- Each worker runs in its own process group, and the parent ends a worker by killing the whole group,
  so a ghostscript started by a worker that timed out dies with it (killing the worker alone left an
  endless-loop EPS running).
- On Linux every child asks the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), so a
  `kill -9` of the main process (which can run no clean-up of its own) still ends the forkserver's
  workers and their ghostscript instead of leaving them to print `BrokenPipeError` later.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

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
