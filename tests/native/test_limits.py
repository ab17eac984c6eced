"""The limited child runner that the hostile-input tests rely on really limits."""

from __future__ import annotations

from helpers.limits import run_limited


def test_a_hang_is_killed_at_the_wall_clock_limit():
    result = run_limited("import time; time.sleep(60)", seconds=1)
    assert result.timed_out and result.returncode == -9 and result.seconds < 10


def test_a_blow_up_fails_inside_the_memory_limit():
    result = run_limited("""
        try:
            block = bytearray(600 * 1024 * 1024)
        except MemoryError:
            print("refused")
    """, memory_mib=256)
    assert result.stdout.strip() == "refused" and result.peak_mib < 256


def test_peak_is_this_childs_own():
    big = run_limited("""
        block = bytearray(300 * 1024 * 1024)
        block[::4096] = b"x" * (len(block) // 4096)
    """)
    small = run_limited("print('ok')")
    assert big.peak_mib > 250 and small.peak_mib < 100 and small.stdout.strip() == "ok"
