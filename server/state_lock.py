"""The exclusive lock that keeps a second server out of a state folder in use.

Two servers on one state folder would each recover the other's running job and
delete its spool and result files. The lock is ``flock`` on a file in the
folder, so the kernel releases it when the holder exits, even by SIGKILL.
"""

from __future__ import annotations

import fcntl
import os

LOCK_FILE_NAME = "server.lock"


class StateDirInUse(Exception):
    """The error raised when another process holds the state folder's lock."""


def lock_state_dir(state_dir: str) -> int:
    """Take the lock on ``state_dir`` and return the open lock file descriptor.

    The lock lasts until the descriptor is closed or the process exits. The
    file records the holder's pid, so that a rejected server can name it.

    Raises:
        StateDirInUse: another process holds the lock.
        OSError: the lock file cannot be opened or locked.
    """
    path = os.path.join(state_dir, LOCK_FILE_NAME)
    # Python opens descriptors non-inheritable, so the runner child, which is
    # spawned with exec, does not hold the lock.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        raise StateDirInUse(_in_use_message(state_dir, path, holder)) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def _read_pid(fd: int) -> int | None:
    """Return the pid that the lock holder wrote, or None if it is not there yet."""
    try:
        return int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError):
        return None


def _in_use_message(state_dir: str, path: str, holder: int | None) -> str:
    server = "another booknlp-jobs server"
    if holder is not None:
        server += f" (pid {holder})"
    return (
        f"the state folder {state_dir} is in use by {server}, which holds the "
        f"lock file {path}. Stop that server first, or start this one with "
        "another --state-dir (BOOKNLP_JOBS_STATE_DIR)"
    )
