"""tightbind.ocr.runner: one runner, three placements (threads, worker processes, Dask),
giving the same outcome for the same page."""

from __future__ import annotations

import threading
import time

from tightbind.ocr.batch import run_batch
from tightbind.ocr.isolation import ProcessPages
from tightbind.ocr.runner import Runner, make_runner
from tightbind.ocr.workers import EngineOptions, PageTask, thread_engine


def outcome(runner, task):
    try:
        [done] = runner.wait([runner.submit(task, "tightbind-runner-test")])
        return done.result()
    finally:
        runner.close()


def test_every_placement_gives_the_same_outcome(pages, dask_cluster):
    from tightbind.ocr.cluster import DaskRunner

    task = PageTask(str(pages["line"]), "image", 0, ("txt", "json", "hocr"))
    threads = make_runner(EngineOptions(), 2)
    processes = make_runner(EngineOptions(), 1, isolate=True, page_timeout=60)
    _, client = dask_cluster
    dask = make_runner(EngineOptions(), 1, client=client)
    assert isinstance(threads, Runner) and isinstance(dask, DaskRunner)
    assert isinstance(processes._work.__self__, ProcessPages)
    assert threads.capacity == 4 and processes.capacity == 2
    results = [outcome(runner, task) for runner in (threads, processes, dask)]
    assert all(result.ok for result in results), results
    assert results[0].parts["txt"] == b"Hello tightbind 123\n"
    assert results[1].parts == results[0].parts == results[2].parts


def test_isolation_without_a_deadline_and_a_deadline_on_threads(pages, tmp_path):
    """isolate=True alone runs worker processes; isolate=False keeps a page_timeout on
    threads (the older rule, a deadline meaning processes, is the default)."""
    for isolate, timeout in ((True, None), (False, 60.0)):
        out = tmp_path / f"out-{isolate}"
        summary = run_batch(pages["line"], out, workers=1, isolate=isolate,
                            page_timeout=timeout)
        assert (summary.pages, summary.failed) == (1, 0)
        assert (out / "line.png.txt").read_text() == "Hello tightbind 123\n"


def test_thread_engines_come_from_one_pool_per_options():
    first = thread_engine(EngineOptions())
    assert thread_engine(EngineOptions()) is first
    other: list = []
    thread = threading.Thread(target=lambda: other.append(thread_engine(EngineOptions())))
    thread.start()
    thread.join()
    assert other[0] is not first and not other[0].closed


def test_close_without_waiting_frees_the_engines_once_the_work_ends():
    release = threading.Event()
    closed = threading.Event()
    runner = Runner(lambda task: release.wait(30), 1, closed.set)
    runner.submit("slow")
    started = time.monotonic()
    runner.close(wait=False)
    assert time.monotonic() - started < 5 and not closed.is_set()
    release.set()
    assert closed.wait(30)
