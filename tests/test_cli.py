"""``python -m tightbind``: the command dispatcher and the framing benchmark's report."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tightbind", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "bench" in result.stdout


def test_version():
    import tightbind

    result = run_cli("--version")
    assert result.stdout.strip() == (f"tightbind {tightbind.__version__} "
                                     "(native libraries: tightbind info)")


def test_bench_rejects_unknown_area():
    result = run_cli("bench", "gpu")
    assert result.returncode == 2
    assert "unknown area 'gpu'" in result.stderr


def test_bench_framing_json_report():
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
    assert any("native vs protobufp 0.2.4" in m for m in measures)


def test_bench_skips_an_area_whose_module_is_missing():
    code = ("import sys; sys.modules['tightbind._tls'] = None\n"
            "from tightbind.__main__ import main\n"
            "sys.exit(main(['bench', 'tls', '--quick']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert "tls: skipped" in result.stderr and "libssl-dev" in result.stderr
