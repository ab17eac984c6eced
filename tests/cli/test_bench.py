"""`tightbind bench`: areas, skips and the JSON report (speed itself is not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys


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
    assert any("native vs protobufp 0.2.4" in m for m in measures)


def test_bench_skips_an_area_whose_module_is_missing():
    code = ("import sys; sys.modules['tightbind._tls'] = None\n"
            "from tightbind.__main__ import main\n"
            "sys.exit(main(['bench', 'tls', '--quick']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert "tls: skipped" in result.stderr and "libssl-dev" in result.stderr


def test_bench_names_the_extra_for_a_missing_peer():
    code = ("import sys; sys.modules['google'] = None\n"
            "from tightbind.__main__ import main\n"
            "sys.exit(main(['bench', 'framing', '--quick']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert "framing: skipped" in result.stderr
    assert "pip install 'tightbind[protobuf]'" in result.stderr
