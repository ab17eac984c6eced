"""tightbind.ocr.deadline: every timeout-taking call checks its timeout the same way and
returns within timeout + SLACK, even from layout analysis Tesseract cannot interrupt."""

from __future__ import annotations

import math
import threading
import time

import pytest
from helpers.limits import run_limited

from tightbind.ocr import ocr_many, process_pages
from tightbind.ocr.deadline import GRACE, SLACK, deadline_ms, run_bounded

BAD_TIMEOUTS = [0, -1, 0.0, -0.5, math.nan, math.inf, "1", True, None.__class__, 1e12]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_every_timeout_taking_call_refuses_the_same_values(api, pages, tmp_path, timeout):
    with pytest.raises(ValueError, match="timeout") as expected:
        deadline_ms(timeout)
    message = str(expected.value)
    api.set_image(pages["line"])
    calls = [
        lambda: api.recognize(timeout=timeout),
        lambda: api.ocr(pages["line"], timeout=timeout),
        lambda: api.process_pages(pages["line"], tmp_path / "x", ["txt"], timeout=timeout),
        lambda: process_pages(pages["line"], str(tmp_path / "y"), ("txt",), timeout=timeout),
        lambda: list(ocr_many([pages["line"]], workers=1, page_timeout=timeout)),
    ]
    for call in calls:
        with pytest.raises(ValueError) as refused:
            call()
        assert str(refused.value) == message
    assert not (tmp_path / "x.txt").exists()


def test_deadline_ms():
    assert deadline_ms(None) == 0
    assert deadline_ms(0.0001) == 1
    assert deadline_ms(2) == 2000
    assert deadline_ms(2.0005) == 2001


def test_run_bounded_finishes_or_abandons():
    assert run_bounded(lambda: 7, 1.0, abandoned=lambda: None) == (True, 7)
    release = threading.Event()
    cleaned = threading.Event()
    started = time.monotonic()
    finished, value = run_bounded(release.wait, 0.05, abandoned=cleaned.set)
    assert (finished, value) == (False, None)
    assert time.monotonic() - started < 0.05 + SLACK
    assert not cleaned.is_set()
    release.set()
    assert cleaned.wait(10)  # the helper cleans up once the abandoned work returns
    assert GRACE < SLACK


def test_timeouts_hold_through_layout_analysis(tmp_path):
    """A 3600x1800 noise page keeps Tesseract in layout analysis for about 15 s; every
    call with a timeout still returns within timeout + SLACK, and the engine goes on.
    (The bound is the feature under test: without it each call takes the 15 s.)"""
    result = run_limited(f"""
        import io, time
        from helpers.images import noise_page
        from helpers.pages import render
        from tightbind.ocr import RecognitionTimeout, TessApi, ocr_many

        noise = noise_page()
        line, _ = render(["Hello tightbind 123"])
        api = TessApi()

        def timed(call):
            started = time.monotonic()
            try:
                call()
                outcome = "finished"
            except RecognitionTimeout:
                outcome = "timeout"
            return outcome, round(time.monotonic() - started, 3)

        api.set_image(noise)
        for timeout in (0.05, 0.4):
            print("recognize", timeout, *timed(lambda: api.recognize(timeout=timeout)))
        print("ocr", 0.05, *timed(lambda: api.ocr(noise, timeout=0.05)))
        print("process_pages", 0.05, *timed(lambda: api.process_pages(
            [noise], {str(tmp_path / "doc")!r}, ["txt", "pdf"], timeout=0.05)))
        results = ocr_many([line, noise, line], workers=1, page_timeout=1.0)
        print("ocr_many-first", 1.0, *timed(lambda: next(results)))
        print("ocr_many", 1.0, *timed(lambda: next(results)))
        print("after", repr(api.ocr(line, timeout=30).strip()))
    """, seconds=120)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[-1] == ["after", "'Hello", "tightbind", "123'"]
    outcomes = {line[0]: line[1:] for line in lines[:-1]}
    assert outcomes["ocr_many-first"][1] == "finished"
    for call in ("recognize", "ocr", "process_pages", "ocr_many"):
        timeout, outcome, seconds = outcomes[call]
        assert outcome == "timeout", (call, outcomes)
        assert float(seconds) <= float(timeout) + SLACK, (call, outcomes)


def _abandon_at_once(work, timeout, *, abandoned):
    """run_bounded as it behaves when the work overruns (without running it)."""
    abandoned()
    return False, None


def test_an_abandoned_engine_is_replaced(monkeypatch, pages):
    import tightbind.ocr.api as api_module
    from tightbind.ocr import RecognitionTimeout, TessApi

    with TessApi(variables={"page_separator": "#"}) as engine:
        engine.set_image(pages["line"])
        monkeypatch.setattr(api_module, "run_bounded", _abandon_at_once)
        with pytest.raises(RecognitionTimeout, match="fresh engine"):
            engine.recognize(timeout=5)
        monkeypatch.undo()
        # The next call waits for the fresh engine, with the same settings and image.
        assert engine.get_string_variable("page_separator") == "#"
        engine.recognize(timeout=30)
        assert engine.get_utf8_text().split() == ["Hello", "tightbind", "123"]
        monkeypatch.setattr(api_module, "run_bounded", _abandon_at_once)
        with pytest.raises(RecognitionTimeout):
            engine.recognize(timeout=5)
    assert engine.closed  # closed while its replacement was loading: freed when it came


def test_reload_waits_fails_and_discards():
    from tightbind.ocr import RecognitionTimeout
    from tightbind.ocr._native import ffi
    from tightbind.ocr.deadline import Reload

    assert ffi.typeof(Reload(lambda: ffi.new("int *", 5)).wait(None)) is ffi.typeof("int *")

    def fail():
        raise MemoryError("no engine")

    with pytest.raises(MemoryError, match="no engine"):
        Reload(fail).wait(None)
    gate = threading.Event()
    slow = Reload(lambda: (gate.wait(), ffi.new("int *"))[1])
    with pytest.raises(RecognitionTimeout, match="still loading"):
        slow.wait(time.monotonic())
    slow.discard()
    gate.set()
    done = Reload(lambda: ffi.new("int *"))
    done.wait(None)
    done.discard()
