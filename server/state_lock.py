"""The exclusive lock that keeps a second server out of a state folder in use.

Two servers on one state folder would each recover the other's running job and
delete its spool and result files. The lock is ``flock`` on the folder itself,
so deleting a file in it cannot release the lock, and the kernel releases it
when the holder exits, even by SIGKILL. Linux allows ``flock`` on a directory
opened read-only.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pwd

# The file in which the lock holder records its pid, for the message that
# rejects a second server. The lock itself is on the folder.
LOCK_FILE_NAME = "server.lock"


class StateDirInUse(Exception):
    """The error raised when another process holds the state folder's lock."""


class StateDirNotWritable(Exception):
    """The error raised when this user cannot write the state folder or its files."""


def lock_state_dir(state_dir: str) -> int:
    """Take the lock on ``state_dir`` and return the open folder descriptor.

    The lock lasts until the descriptor is closed or the process exits. The
    holder writes its pid to ``server.lock``, so that a rejected server can
    name it.

    Raises:
        StateDirInUse: another process holds the lock.
        StateDirNotWritable: this user cannot read or write the folder or
            ``server.lock``.
        OSError: the folder cannot be opened or locked for another reason.
    """
    # Python opens descriptors non-inheritable, so the runner child, which is
    # spawned with exec, does not hold the lock.
    try:
        fd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    except PermissionError as exc:
        raise StateDirNotWritable(not_writable_message(state_dir, exc)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = _read_pid(state_dir)
        raise StateDirInUse(_in_use_message(state_dir, holder)) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        _write_pid(state_dir)
    except PermissionError as exc:
        os.close(fd)
        raise StateDirNotWritable(not_writable_message(state_dir, exc)) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_pid(state_dir: str) -> None:
    # os.access checks the folder itself, which the jobs' files are written to;
    # the open below checks only server.lock.
    if not os.access(state_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), state_dir)
    path = os.path.join(state_dir, LOCK_FILE_NAME)
    with open(path, "w", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")


def _read_pid(state_dir: str) -> int | None:
    """Return the pid that the lock holder wrote, or None if it is not there."""
    try:
        with open(os.path.join(state_dir, LOCK_FILE_NAME), encoding="ascii") as handle:
            return int(handle.read(32).strip())
    except (OSError, ValueError):
        return None


def _in_use_message(state_dir: str, holder: int | None) -> str:
    server = "another booknlp-jobs server"
    if holder is not None:
        server += f" (pid {holder})"
    return (
        f"the state folder {state_dir} is in use by {server}, which holds its "
        "lock. Stop that server first, or start this one with another "
        "--state-dir (BOOKNLP_JOBS_STATE_DIR)"
    )


def not_writable_message(state_dir: str, exc: OSError) -> str:
    """Return the message for a state folder or file that this user cannot write.

    Such a folder usually comes from a run as another user, such as root. Its
    jobs are kept only if the owner is fixed, so the message names chown
    first.
    """
    user = _user_name()
    path = exc.filename or state_dir
    return (
        f"user {user} cannot read or write {path} in the state folder {state_dir} "
        f"({exc.strerror or exc}); it was probably created by another user, such "
        f"as a run as root. Give the folder to this user with 'chown -R {user} "
        f"{state_dir}', or run the server as the folder's owner. Another "
        "--state-dir starts empty and leaves the folder's jobs behind"
    )


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"
