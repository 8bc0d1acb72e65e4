"""One server per state folder, and result files that vanish within their TTL."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import ClientFactory, submit_text, wait_status
from tests.service_process import ROOT, ServiceProcess, free_port

SLOW = "#test-engine chunks=100 delay_s=0.05\n"


# Deleting server.lock, which only records the pid, must not release the lock.
@pytest.mark.parametrize("delete_lock_file", [False, True])
def test_second_server_on_state_dir_exits_2(
    tmp_path: Path, delete_lock_file: bool
) -> None:
    state = tmp_path / "state"
    first = ServiceProcess(state, tmp_path / "first.log")
    second = None
    try:
        first.wait_ready()
        done = first.submit("finished before the second server")
        first.wait_status(done, {"completed"})
        running = first.submit(SLOW + "book running meanwhile")
        first.wait_status(running, {"running"})
        if delete_lock_file:
            (state / "server.lock").unlink()

        second = ServiceProcess(state, tmp_path / "second.log")
        code = second.process.wait(timeout=120)
        second.log.close()
        log = (tmp_path / "second.log").read_text()

        assert code == 2
        assert f"state folder {state} is in use" in log
        if not delete_lock_file:
            assert f"pid {first.process.pid}" in log
        assert "--state-dir" in log
        assert "event=child.started" not in log
        assert "event=job.recovered" not in log
        # The first server keeps its jobs and their files.
        status, result, _ = first.request("GET", f"/v1/jobs/{done}/result")
        assert status == 200
        assert result["tokens"][0]["word"] == "finished"
        assert first.wait_status(running, {"completed", "failed"})["status"] == (
            "completed"
        )
    finally:
        if second is not None and second.process.poll() is None:
            second.kill()
        first.stop()


NOBODY = 65534


def _start_as_other_user(state: Path) -> subprocess.CompletedProcess[str]:
    """Start the server on ``state`` as a user that does not own the folder.

    As root, the server runs as the user nobody through setpriv, because root may
    write any file. Otherwise the caller has removed its own write access.
    """
    command = [sys.executable, "-m", "server", "--port", str(free_port())]
    if os.geteuid() == 0:
        command = [
            "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            *command,
        ]  # fmt: skip
    env = {**os.environ, "BOOKNLP_JOBS_ENGINE": "test",
           "BOOKNLP_JOBS_STATE_DIR": str(state)}  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("unwritable", ["folder", "lock file"])
def test_unwritable_state_names_chown(unwritable: str) -> None:
    # pytest's tmp_path is private to its user, which the user nobody could not
    # reach.
    parent = Path(tempfile.mkdtemp(prefix="booknlp-jobs-lock-"))
    parent.chmod(0o711)
    state = parent / "state"
    state.mkdir()
    lock = state / "server.lock"
    lock.write_text("1\n")
    if os.geteuid() == 0:
        state.chmod(0o755 if unwritable == "folder" else 0o777)
    elif unwritable == "folder":
        state.chmod(0o555)
    else:
        lock.chmod(0o444)
    try:
        done = _start_as_other_user(state)
    finally:
        state.chmod(0o755)
        shutil.rmtree(parent)

    assert done.returncode == 2, done.stderr
    assert "cannot read or write" in done.stderr
    assert "chown -R " in done.stderr
    assert str(state) in done.stderr
    assert "leaves the folder's jobs behind" in done.stderr
    assert "event=child.started" not in done.stderr


async def test_missing_result_file_not_expired(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    job = await submit_text(client, "a short book")
    await wait_status(client, job["job_id"], {"completed"})
    os.remove(tmp_path / "results" / f"{job['job_id']}.json")

    for path in ("result", "booknlp.zip"):
        response = await client.get(f"/v1/jobs/{job['job_id']}/{path}")
        error = (await response.json())["error"]
        assert response.status == 404, path
        assert error["code"] == "result_missing", path
        assert "result file" in error["message"], path
        assert "is missing" in error["message"], path
        assert "Submit the book again" in error["message"], path
        assert "expired" not in error["message"], path
    lines = [record.getMessage() for record in caplog.records]
    assert f"event=job.result_missing job_id={job['job_id']}" in " ".join(lines)


def _feed_fifo(path: Path) -> None:
    """Open the FIFO for writing once a reader opens it, then close it at once."""
    with open(path, "wb"):
        pass


@pytest.mark.parametrize("replacement", ["folder", "fifo"])
async def test_unreadable_result_is_json_error(
    make_client: ClientFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    replacement: str,
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    job = await submit_text(client, "a short book")
    await wait_status(client, job["job_id"], {"completed"})
    path = tmp_path / "results" / f"{job['job_id']}.json"
    path.unlink()
    writer = None
    if replacement == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
        # Without a writer, a blocking open of the FIFO on the event loop
        # would stop the server and this test. The writer lets such an open
        # return, so that the test fails instead of hanging.
        writer = threading.Thread(target=_feed_fifo, args=(path,), daemon=True)
        writer.start()
    try:
        response = await client.get(f"/v1/jobs/{job['job_id']}/result")
        body = await response.json(content_type=None)
    finally:
        if writer is not None:
            # Opening the read end releases the writer if the server never did.
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            writer.join()

    assert response.status == 503, body
    error = body["error"]
    assert error["code"] == "result_unreadable"
    assert "cannot be read" in error["message"]
    assert str(path) in error["message"]
    assert "chown" in error["message"]
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        line.startswith(f"event=job.result_unreadable job_id={job['job_id']} ")
        for line in lines
    )
    assert not any(record.exc_info for record in caplog.records)
