"""`tightbind bench`, the installed command: areas, skips and the JSON report (speed itself
is not asserted).  The repository's contests (bench/) are tested in tests/bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_rejects_unknown_area(run_cli):
    result = run_cli("bench", "gpu")
    assert result.returncode == 2
    assert "unknown area 'gpu'" in result.stderr


def test_bench_framing_json_report(run_cli):
    result = run_cli("bench", "framing", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["versions"]["protobuf"]
    assert report["machine"]["cores"] >= 1
    titles = [table["title"] for table in report["tables"]]
    assert any("15-byte" in title for title in titles)
    assert any("1 MiB" in title for title in titles)
    paths = {row[0] for table in report["tables"] for row in table["rows"]}
    assert {"native, one block", "pure, 64 KiB chunks", "parse-only, one block"} <= paths
    for table in report["tables"]:
        for row in table["rows"]:
            if row[1] != "":
                assert row[1] > 0  # messages/s were measured, not left blank
    measures = [row[1] for row in report["summary"]["rows"]]
    assert any("native vs pure" in m for m in measures)
    # Another package's reader is the repository's contest, not the installed command's.
    assert not any("protobufp" in m for m in measures)
    assert not any("protobufp" in path for path in paths)
    assert report["machine"]["command"].endswith("-m tightbind bench framing --quick --json")


def test_bench_says_where_the_contests_live(run_cli):
    result = run_cli("bench", "pdf")
    assert result.returncode == 2
    assert "bash scripts/bench pdf" in result.stderr and "OCRmyPDF" in result.stderr
    assert "bash scripts/bench" in run_cli("bench", "--help").stdout
    # The text report ends saying so too (a skipped area still prints it).
    code = ("import sys; sys.modules['google'] = None\n"
            "from tightbind.__main__ import main\n"
            "sys.exit(main(['bench', 'framing', '--quick']))")
    skipped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=False)
    assert skipped.returncode == 1 and "'bash scripts/bench'" in skipped.stdout


@pytest.mark.slow
def test_bench_tls_and_ocr_compare_tightbind_with_the_platform_only(run_cli):
    """The installed TLS tables time tightbind against CPython's ssl and the openssl
    command; the OCR tables word boxes against recognition and threads against one.
    No row needs another package."""
    result = run_cli("bench", "tls", "ocr", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    contenders = {row[1] for table in report["tables"] if table["title"].startswith("TLS")
                  for row in table["rows"]}
    assert contenders == {"tightbind", "CPython ssl._test_decode_cert (reads the file)",
                          "openssl s_client -showcerts (one process)",
                          "Python ssl handshake (leaf only, no chain)"}
    tls_rows = [row for t in report["tables"] if t["title"].startswith("TLS") for row in t["rows"]]
    assert all(row[2] > 0 for row in tls_rows)
    words, threads = [t for t in report["tables"] if t["title"].startswith("OCR")]
    assert [row[0] for row in words["rows"]] == [
        "recognize", "recognize + results(RIL_WORD)", "results(RIL_WORD) alone"]
    assert [row[0] for row in threads["rows"]][:2] == [1, 2]
    areas = {row[0] for row in report["summary"]["rows"]}
    assert areas == {"tls", "ocr"}


@pytest.mark.parametrize("hidden, area, says", [
    ("tightbind._tls", "tls", "libssl-dev"),                    # the native module
    ("google", "framing", "pip install 'tightbind[protobuf]'"),  # a peer, from an extra
    ("PIL", "ocr", "pip install 'tightbind[images]'"),
])
def test_bench_skips_an_area_it_cannot_run_and_says_why(hidden, area, says):
    code = (f"import sys; sys.modules[{hidden!r}] = None\n"
            "from tightbind.__main__ import main\n"
            f"sys.exit(main(['bench', {area!r}, '--quick']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert f"{area}: skipped" in result.stderr and says in result.stderr
