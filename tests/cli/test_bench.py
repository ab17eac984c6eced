"""`tightbind bench`: areas, skips and the JSON report (speed itself is not asserted)."""

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


@pytest.mark.slow
def test_bench_tls_times_the_wheel_beside_this_install(run_cli):
    """The pyOpenSSL table times tightbind.tls.crypto here and, in a venv of its own, the
    built wheel (with the OpenSSL inside it) through the same worker pyOpenSSL runs in;
    the diagnosis table times diagnose() against sslyze (its own venv)."""
    wheels = sorted(ROOT.glob("wheelhouse/tightbind-*manylinux*.whl"))
    if not wheels:
        pytest.skip("no wheel in wheelhouse/ (bash scripts/build-wheels)")
    result = run_cli("bench", "tls", "--quick", "--json",
                     env={"TIGHTBIND_BENCH_WHEEL": str(wheels[-1])})
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


@pytest.mark.parametrize("hidden, area, says", [
    ("tightbind._tls", "tls", "libssl-dev"),                    # the native module
    ("google", "framing", "pip install 'tightbind[protobuf]'"),  # a peer, from an extra
    ("pikepdf", "pdf", "pip install 'tightbind[pdf]'"),
])
def test_bench_skips_an_area_it_cannot_run_and_says_why(hidden, area, says):
    code = (f"import sys; sys.modules[{hidden!r}] = None\n"
            "from tightbind.__main__ import main\n"
            f"sys.exit(main(['bench', {area!r}, '--quick']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert f"{area}: skipped" in result.stderr and says in result.stderr


def test_batch_bench_error_rates_and_steady_rate():
    from tightbind.benchmarks.batch import WORKERS, _steady_rate, error_rates

    truth = "the annual meeting of the council"
    assert error_rates(truth, "the  annual meeting\nof the council") == (0.0, 0.0)
    words, characters = error_rates(truth, "the annul meeting of council")
    assert words == pytest.approx(2 / 6)  # one word changed, one lost
    assert characters == pytest.approx((1 + 4) / len(truth))  # "a" lost; "the " lost
    lost_words, lost_characters = error_rates(truth, "")
    assert lost_words == 1.0 and lost_characters >= 1.0
    assert error_rates("council the", "the council")[0] == pytest.approx(1.0)
    # Two workers finishing pages at 1, 1, 2, 2, 3, 3 s: 2 pages/s once both started.
    finished = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert WORKERS == 2 and _steady_rate(finished, 0.0) == pytest.approx(2.0)
    assert _steady_rate([4.0, 4.0], 0.0) == pytest.approx(0.5)  # no steady part: whole call
