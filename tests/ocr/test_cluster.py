"""Dask deadlines: --connect-timeout holds whatever the scheduler does, and a scheduler
lost mid-run ends the run with a sentence (exit 2), its finished pages kept."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from helpers.limits import run_limited

pytest.importorskip("distributed")


def peer(mode: str) -> tuple[str, socket.socket]:
    """A listening peer that accepts and stays silent, or floods garbage."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if mode == "flood":
                def flood(c: socket.socket = connection) -> None:
                    try:
                        while True:
                            c.sendall(os.urandom(65536))
                    except OSError:
                        pass
                threading.Thread(target=flood, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", server


@pytest.mark.parametrize("mode", ["silent", "flood"])
def test_connect_timeout_holds_whatever_the_peer_does(mode, pages, tmp_path):
    """Before: a port that accepts and never answers still waited after 120 s with
    --connect-timeout 3 (inside distributed.Client)."""
    address, server = peer(mode)
    try:
        result = run_limited(f"""
            import sys
            from tightbind.__main__ import main
            sys.exit(main(["ocr", {str(pages["line"])!r}, "--out", {str(tmp_path / "out")!r},
                           "--scheduler", {address!r}, "--connect-timeout", "2"]))
            """, seconds=60)
    finally:
        server.close()
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("tightbind ocr: ")
    assert ("no Dask scheduler answered" in result.stderr) == (mode == "silent")
    assert "Traceback" not in result.stderr


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                                 "OMP_THREAD_LIMIT": "1"})


def cluster(port: int) -> list[subprocess.Popen]:
    """A scheduler and one worker in their own processes, ready."""
    import distributed

    address = f"tcp://127.0.0.1:{port}"
    processes = [start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                        str(port), "--dashboard-address", ":0"]),
                 start(["distributed.cli.dask_worker", address, "--nthreads", "1",
                        "--no-nanny", "--no-dashboard"])]
    with distributed.Client(address, timeout=120) as client:
        client.wait_for_workers(1, timeout=120)
    return processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_a_scheduler_lost_mid_run_ends_with_a_sentence_and_the_next_run_resumes(
        pages, tmp_path):
    """Before: a scheduler killed mid-batch ended in an uncaught FuturesCancelledError.
    The pages finished before the loss are kept, and a run against a new cluster does
    the rest only."""
    folder = tmp_path / "in"
    folder.mkdir()
    for number in range(12):
        (folder / f"page-{number:02d}.png").write_bytes(pages["paragraph"].read_bytes())
    out = tmp_path / "out"
    port = free_port()
    command = [sys.executable, "-m", "tightbind", "ocr", str(folder), "--out", str(out),
               "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "5"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = cluster(port)
    try:
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
        deadline = time.monotonic() + 120
        manifest = out / "manifest.jsonl"
        while time.monotonic() < deadline and run.poll() is None and not (
                manifest.exists() and manifest.read_text()):
            time.sleep(0.1)  # until the first page's record is in
        processes[0].kill()  # the scheduler
        _, stderr = run.communicate(timeout=90)
    finally:
        stop(processes)
    assert run.returncode == 2, stderr
    assert "lost the Dask scheduler" in stderr and "Traceback" not in stderr
    kept = manifest.read_text().splitlines() if manifest.exists() else []
    assert 1 <= len(kept) < 12

    port = free_port()  # a new cluster: the next run resumes from the records kept
    command[command.index("--scheduler") + 1] = f"tcp://127.0.0.1:{port}"
    processes = cluster(port)
    try:
        again = subprocess.run(command, capture_output=True, text=True, env=env,
                               timeout=300)
    finally:
        stop(processes)
    assert again.returncode == 0, again.stderr
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert records[:len(kept)] == [json.loads(line) for line in kept]
    assert sorted(record["input"] for record in records) == \
        [f"page-{number:02d}.png" for number in range(12)], \
        [(r["input"], r["status"], r.get("error")) for r in records]  # each page once
    assert all(record["status"] == "ok" for record in records)
    for number in range(12):
        assert "quick brown fox" in (out / f"page-{number:02d}.png.txt").read_text()
