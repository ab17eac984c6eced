"""tightbind.bench.batch, the batch area of the installed ``tightbind bench``: error
rates, the steady rate, and each table on a few small pages (speed is not asserted)."""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")
pytest.importorskip("PIL")
pytest.importorskip("psutil")

from tightbind.bench import batch


def test_error_rates_and_steady_rate():
    truth = "the annual meeting of the council"
    assert batch.error_rates(truth, "the  annual meeting\nof the council") == (0.0, 0.0)
    words, characters = batch.error_rates(truth, "the annul meeting of council")
    assert words == pytest.approx(2 / 6)  # one word changed, one lost
    assert characters == pytest.approx((1 + 4) / len(truth))  # "a" lost; "the " lost
    lost_words, lost_characters = batch.error_rates(truth, "")
    assert lost_words == 1.0 and lost_characters >= 1.0
    assert batch.error_rates("council the", "the council")[0] == pytest.approx(1.0)
    # Two workers finishing pages at 1, 1, 2, 2, 3, 3 s: 2 pages/s once both started.
    finished = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert batch.WORKERS == 2 and batch._steady_rate(finished, 0.0) == pytest.approx(2.0)
    assert batch._steady_rate([4.0, 4.0], 0.0) == pytest.approx(0.5)  # no steady part


@pytest.fixture(scope="module")
def strips(tmp_path_factory):
    return batch.render_pages(tmp_path_factory.mktemp("strips"), 3, seed=3, size="strip")


@pytest.mark.slow
def test_throughput_compares_with_threads_without_a_peer(strips, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    warm = [path for path, _ in strips[:batch.WORKERS]]
    table = batch._throughput("batch small pages: 3 strips", strips, warm,
                              [batch._Threads(), batch._Deadline()], 1, tmp_path)
    assert [row[0] for row in table.rows] == [batch._Threads.name, batch._Deadline.name]
    assert table.columns[6] == "vs threads" and table.rows[0][6] == "1.00x"
    for _, seconds, rate, per_core, cpu, startup, _, wer in table.rows:
        assert seconds > 0 and rate > 0 and per_core > 0 and cpu > 0 and startup > 0
        assert float(wer) < 0.2  # the text was read, not left empty
    assert table.headlines == []  # no Dask and no other package to compare with


@pytest.mark.slow
def test_settings_table_reads_every_setting(strips):
    table = batch._settings(strips[:1])
    assert [row[0] for row in table.rows] == [name for name, _ in batch.SETTINGS]
    assert table.rows[0][2] == "1.00x"
    assert all(row[1] > 0 and float(row[3]) < 0.5 for row in table.rows)


@pytest.mark.slow
def test_run_with_no_pages_is_the_rss_check_alone(monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")  # run() sets it; restored afterwards
    monkeypatch.setenv("TIGHTBIND_BENCH_PAGES", "0")
    monkeypatch.setenv("TIGHTBIND_BENCH_RSS_PAGES", "4")
    [table] = batch.run(quick=True)
    assert table.title == "batch: driver RSS over 4 small pages, run_batch on threads"
    assert [row[0] for row in table.rows] == [0, 1, 2, 3, 4]
    assert "4 pages (0 failed)" in table.notes[0]
    monkeypatch.setenv("TIGHTBIND_BENCH_RSS_PAGES", "0")
    assert batch.run(quick=True) == []
