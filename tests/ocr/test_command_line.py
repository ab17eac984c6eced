"""tightbind.ocr.command_line: the tesseract command's arguments and config files."""

from __future__ import annotations

import pytest

from tightbind.ocr.command_line import (
    CommandLineError,
    parse_arguments,
    read_config_file,
)


def test_defaults_and_options():
    line = parse_arguments([])
    assert (line.language, line.psm, line.oem, line.dpi, line.data_path) == ("eng", 3, 3, 0,
                                                                              None)
    line = parse_arguments(["-l", "deu", "--psm", "7", "--oem", "1", "--dpi", "300",
                            "--tessdata-dir", "/x", "--user-words", "w.txt",
                            "--user-patterns", "p.txt", "-c", "a=b=c", "--loglevel", "OFF",
                            "digits", "--psm", "6"])
    assert (line.language, line.psm, line.oem, line.dpi, line.data_path) == ("deu", 7, 1,
                                                                              300, "/x")
    assert line.variables == [("user_words_file", "w.txt"), ("user_patterns_file", "p.txt"),
                              ("a", "b=c")]
    assert line.configs == ["digits", "--psm", "6"]  # options end at the first config


@pytest.mark.parametrize(("words", "psm", "dpi"), [
    (["--psm", "abc"], 0, 0), (["--psm", " 7x"], 7, 0), (["--dpi", "-5"], 3, -5),
    (["--dpi", "99999999999"], 3, 1215752191), (["--dpi", "4294967295"], 3, -1)])
def test_numbers_are_read_as_atoi_reads_them(words, psm, dpi):
    line = parse_arguments(words)
    assert (line.psm, line.dpi) == (psm, dpi)


def test_osd_mode_loads_osd_unless_a_language_is_given():
    assert parse_arguments(["--psm", "0"]).language == "osd"
    assert parse_arguments(["--psm", "0"], language="eng").language == "eng"
    assert parse_arguments(["--list-langs"]).list_languages


@pytest.mark.parametrize(("words", "message"), [
    (["--psm", "14"], "Invalid PSM value"), (["--oem", "-1"], "Invalid OEM value"),
    (["-c", "novalue"], "Missing '='"), (["--bogus"], "unknown command line argument"),
    (["-l"], "unknown command line argument '-l'"), (["--loglevel", "LOUD"], "--loglevel"),
    (["--version"], "runs no OCR")])
def test_refused(words, message):
    with pytest.raises(CommandLineError, match=message):
        parse_arguments(words)


def test_config_files(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "mine").write_bytes(b"# comment\n\nname_one 1\nname_two\t  a b \r\n"
                                   b"\rskipped\nlast")
    assert read_config_file("mine", str(tmp_path)) == [("name_one", "1"),
                                                        ("name_two", "a b "), ("last", "")]
    (tmp_path / "tessconfigs").mkdir()
    (tmp_path / "tessconfigs" / "other").write_text("x 2\n")
    assert read_config_file("other", str(tmp_path)) == [("x", "2")]
    assert read_config_file(str(configs / "mine"), "/nowhere")[0] == ("name_one", "1")
    assert read_config_file("missing", str(tmp_path)) is None
    assert read_config_file("configs", str(tmp_path)) is None  # a folder
    (configs / "long").write_bytes(b"a " + b"x" * 5000 + b"\n")
    name, value = read_config_file("long", str(tmp_path))[0]
    assert name == "a" and len(value) == 4093  # fgets' buffer cuts the line
    (configs / "huge").write_bytes(b"a 1\n" * 300000)
    with pytest.raises(CommandLineError, match="over"):
        read_config_file("huge", str(tmp_path))
