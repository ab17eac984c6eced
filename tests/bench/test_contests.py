"""The repository's bench/ (``bash scripts/bench``): tightbind's own tables with the
contests against other packages added, in the report ``tightbind bench`` prints (speed
itself is not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def run_bench(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` as scripts/bench runs it: the checkout's root on the path
    for bench/, tightbind as this process imports it."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True,
                          text=True, timeout=900, cwd="/", stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": path, **env}, check=False)


def test_bench_knows_every_area_and_says_so():
    from bench import AREAS
    from tightbind.bench import AREAS as INSTALLED

    assert set(INSTALLED) < set(AREAS) and "pdf" in AREAS
    result = run_bench("gpu")
    assert result.returncode == 2 and "unknown area 'gpu'" in result.stderr
    assert "(choose from framing, ocr, tls, batch, pdf)" in result.stderr


def test_protobufp_024_reads_tightbinds_frames():
    """The re-created protobufp 0.2.4 reader the framing contest times reads every message
    of a chunked stream (its factory asserts the count)."""
    from bench.framing import _original
    from tightbind.bench.framing import CHUNK, message_types
    from tightbind.framing import Processor

    test_msg, _ = message_types()
    messages = [test_msg(left=n, center="abc", right=n + 1) for n in range(10_000)]
    serializer = Processor([test_msg]).serializer
    stream = b"".join(serializer.serialize(m) for m in messages)
    chunks = [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]
    assert len(chunks) > 1
    _original(test_msg, chunks, len(messages))()
    with pytest.raises(AssertionError):
        _original(test_msg, chunks[:-1], len(messages))()


@pytest.mark.slow
def test_bench_framing_adds_protobufp_to_the_installed_tables():
    result = run_bench("framing", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["machine"]["command"] == "bash scripts/bench framing --quick --json"
    small = next(t for t in report["tables"] if "15-byte" in t["title"])
    paths = [row[0] for row in small["rows"]]
    assert paths[-1] == "protobufp 0.2.4 read path, 64 KiB chunks" and small["rows"][-1][1] > 0
    assert "native, one block" in paths and "pure, 64 KiB chunks" in paths
    measures = [row[1] for row in report["summary"]["rows"]]
    assert "15-byte payloads, 64 KiB chunks: native vs protobufp 0.2.4" in measures


@pytest.mark.slow
def test_bench_tls_times_the_wheel_beside_this_install():
    """The pyOpenSSL table times tightbind.tls.crypto here and, in a venv of its own, the
    built wheel (with the OpenSSL inside it) through the same worker pyOpenSSL runs in;
    the diagnosis table times diagnose() against sslyze (its own venv); cryptography's
    rows join tightbind's own PKCS#12 table."""
    wheels = sorted(ROOT.glob("wheelhouse/tightbind-*manylinux*.whl"))
    if not wheels:
        pytest.skip("no wheel in wheelhouse/ (bash scripts/build-wheels)")
    result = run_bench("tls", "--quick", "--json", TIGHTBIND_BENCH_WHEEL=str(wheels[-1]))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    table = next(t for t in report["tables"] if "pyOpenSSL API" in t["title"])
    contenders = {row[1] for row in table["rows"]}
    assert "tightbind" in contenders
    assert any(name.startswith("tightbind wheel (3.") for name in contenders), contenders
    assert all(row[2] > 0 for row in table["rows"])
    doctor = next(t for t in report["tables"] if "diagnose" in t["title"])
    assert doctor["rows"][0][1] == "tightbind"
    assert any(row[1].startswith("sslyze ") for row in doctor["rows"]) or any(
        "could not install sslyze" in note for note in doctor["notes"])
    p12 = report["tables"][0]
    assert "PKCS#12" in p12["title"]
    assert {"tightbind", "CPython ssl._test_decode_cert (reads the file)"} <= {
        row[1] for row in p12["rows"]}
