"""tightbind.bench._report: the text tables, interleaved timing and the machine block."""

from __future__ import annotations

from tightbind.bench._report import Table, interleaved, machine


def test_render_aligns_numbers_right_and_words_left():
    table = Table("title", ["path", "msgs/s", "ratio"],
                  rows=[["native", 1234567.0, "1.00x"], ["pure", 12.345, "0.50x"],
                        ["memmove", 0.5, ""]], notes=["a note"])
    lines = table.render().splitlines()
    assert lines[:2] == ["title", ""]
    assert lines[2].split() == ["path", "msgs/s", "ratio"]
    assert set(lines[3].replace(" ", "")) == {"-"}
    assert lines[4].split() == ["native", "1,234,567", "1.00x"]
    assert lines[5].split() == ["pure", "12.3", "0.50x"]
    assert lines[6].split() == ["memmove", "0.50"]
    assert lines[4].index("1,234,567") + len("1,234,567") == lines[5].index("12.3") + 4
    assert lines[-1] == "  a note"
    assert table.to_dict()["rows"][0] == ["native", 1234567.0, "1.00x"]


def test_interleaved_times_every_contender():
    calls = {"a": 0, "b": 0}

    def count(name: str):
        def call() -> None:
            calls[name] += 1
        return call

    seconds = interleaved({"a": count("a"), "b": count("b")}, rounds=3, min_time=0.001)
    assert set(seconds) == {"a", "b"} and all(value > 0 for value in seconds.values())
    assert calls["a"] > 3 and calls["b"] > 3  # warm-up, calibration and three rounds


def test_machine_block_names_the_command():
    info = machine("bash scripts/bench framing")
    assert info["command"] == "bash scripts/bench framing" and info["cores"] >= 1
    assert len(info["load_average"]) == 3 and info["python"].startswith("CPython")
