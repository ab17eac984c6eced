"""tightbind.ocr.params: values checked against their kind and limits, process-global
parameters kept per engine, Tesseract's diagnostics kept off stderr."""

from __future__ import annotations

import logging

import pytest
from helpers.limits import run_limited
from helpers.pages import PARAGRAPH, render

from tightbind.ocr import PSM, TessApi, VariableError
from tightbind.ocr.params import (
    CHARSET_VARIABLES,
    MAX_CHARSET_LENGTH,
    MAX_LANGUAGES,
    MAX_STRING_LENGTH,
    Kind,
    catalogue,
)

# ---- kinds ----------------------------------------------------------------------------------

WRONG_KIND = [
    ("tessedit_pageseg_mode", "abc"), ("tessedit_pageseg_mode", "1.5"),
    ("tessedit_pageseg_mode", 1.5), ("tessedit_pageseg_mode", ""),
    ("tessedit_pageseg_mode", "0x3"), ("tessedit_pageseg_mode", 99),
    ("tessedit_pageseg_mode", -1), ("tessedit_ocr_engine_mode", 7),
    ("textord_tabfind_find_tables", "maybe"), ("textord_tabfind_find_tables", 2),
    ("textord_tabfind_find_tables", 0.5), ("user_defined_dpi", 2**31),
    ("user_defined_dpi", -(2**31)), ("user_defined_dpi", None),
    ("textord_noise_hfract", "nan"), ("textord_noise_hfract", float("inf")),
    ("textord_noise_hfract", "abc"), ("textord_noise_hfract", True),
    ("tessedit_char_whitelist", 5), ("page_separator", None),
    ("page_separator", "a\0b"), ("page_separator", "x" * (MAX_STRING_LENGTH + 1)),
]


@pytest.mark.parametrize(("name", "value"), WRONG_KIND)
def test_value_of_the_wrong_kind_is_refused(api, name, value):
    before = api.get_int_variable("tessedit_pageseg_mode")
    with pytest.raises(VariableError, match=repr(name)):
        api.set_variable(name, value)
    with pytest.raises(VariableError, match=repr(name)):
        TessApi(variables={name: value})
    assert api.get_int_variable("tessedit_pageseg_mode") == before


@pytest.mark.parametrize(("name", "value", "getter", "expected"), [
    ("tessedit_pageseg_mode", "7", "get_int_variable", 7),
    ("tessedit_pageseg_mode", PSM.SINGLE_WORD, "get_int_variable", 8),
    ("user_defined_dpi", " 300 ", "get_int_variable", 300),
    ("textord_tabfind_find_tables", "false", "get_bool_variable", False),
    ("textord_tabfind_find_tables", True, "get_bool_variable", True),
    ("tessedit_do_invert", "0", "get_bool_variable", False),
    ("textord_noise_hfract", 0.25, "get_double_variable", 0.25),
    ("textord_noise_hfract", "1", "get_double_variable", 1.0),
    ("page_separator", "--", "get_string_variable", "--"),
])
def test_value_of_the_right_kind_is_set(name, value, getter, expected):
    with TessApi() as engine:
        engine.set_variable(name, value)
        assert getattr(engine, getter)(name) == expected
    with TessApi(variables={name: value}) as engine:
        assert getattr(engine, getter)(name) == expected


def test_unknown_variable_refused_before_loading():
    with pytest.raises(VariableError, match="no variable"):
        TessApi(variables={"no_such_variable": 1})


# ---- limits of the native code values reach -------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHARSET_VARIABLES))
def test_character_sets_capped(api, name):
    too_long = "x" * (MAX_CHARSET_LENGTH + 1)
    with pytest.raises(VariableError, match="MAX_CHARSET_LENGTH"):
        api.set_variable(name, too_long)
    with pytest.raises(VariableError, match="MAX_CHARSET_LENGTH"):
        TessApi(variables={name: too_long})
    api.set_variable(name, "")


def test_long_words_and_word_files_capped(api, tmp_path):
    with pytest.raises(ValueError, match="MAX_CHARSET_LENGTH"):
        api.is_valid_word("x" * (MAX_CHARSET_LENGTH + 1))
    assert not api.is_valid_word("x" * MAX_CHARSET_LENGTH)
    words = tmp_path / "words.txt"
    words.write_text("fine\n" + "x" * (MAX_CHARSET_LENGTH + 1) + "\n")
    for name in ("user_words_file", "user_patterns_file"):
        with pytest.raises(VariableError, match="line 2"):
            TessApi(variables={name: str(words)})
    with pytest.raises(VariableError, match="cannot read"):
        TessApi(variables={"user_words_file": str(tmp_path / "missing.txt")})


def test_languages_bounded():
    with pytest.raises(ValueError, match="MAX_LANGUAGES"):
        TessApi(language="+".join(["eng"] * (MAX_LANGUAGES + 1)))
    for bad in ("../eng", "/etc/passwd", "eng+" + "x" * 100, "~eng"):
        with pytest.raises(ValueError, match="language"):
            TessApi(language=bad)
    with pytest.raises(VariableError, match="language"):
        TessApi(variables={"tessedit_load_sublangs": "../../x"})


def test_what_crashed_tesseract_is_refused_in_a_child():
    """The reproducers (100,000 characters through every door), in a child: it must
    neither crash nor accept them, and the longest accepted value must recognise."""
    result = run_limited("""
        from PIL import Image, ImageDraw
        from tightbind.ocr import TessApi, VariableError
        from tightbind.ocr.params import CHARSET_VARIABLES, MAX_CHARSET_LENGTH
        image = Image.new("L", (300, 80), 255)
        ImageDraw.Draw(image).text((10, 30), "xxx 123", fill=0)
        api = TessApi()
        refused = 0
        for name in sorted(CHARSET_VARIABLES):
            for door in ("set_variable", "variables"):
                try:
                    if door == "set_variable":
                        api.set_variable(name, "x" * 100000)
                    else:
                        TessApi(variables={name: "x" * 100000})
                except VariableError:
                    refused += 1
            api.set_variable(name, "x" * MAX_CHARSET_LENGTH)
            api.set_image(image)
            api.recognize()
            api.set_variable(name, "")
        try:
            api.is_valid_word("x" * 100000)
        except ValueError:
            refused += 1
        print(refused)
    """, seconds=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(2 * len(CHARSET_VARIABLES) + 1)]


# ---- process-global parameters ---------------------------------------------------------------


def test_catalogue_knows_which_parameters_are_process_global():
    params = catalogue()
    assert len(params) > 500
    assert params["debug_file"].process_global
    assert params["textord_tabfind_find_tables"].kind is Kind.BOOL
    assert not params["tessedit_char_whitelist"].process_global
    assert not params["tessedit_pageseg_mode"].process_global
    shared = [p for p in params.values() if p.process_global]
    assert len(shared) > 100 and {p.kind for p in shared} == set(Kind)


def _global_sample():
    """One process-global parameter of each kind, with a value unlike its default."""
    picks = {}
    for param in catalogue().values():
        if param.process_global and param.name != "debug_file":
            picks.setdefault(param.kind, param)
    return {Kind.INT: 3, Kind.BOOL: None, Kind.DOUBLE: 0.75, Kind.STRING: "tb-test"}, picks


def _read(engine, param):
    getter = {Kind.INT: engine.get_int_variable, Kind.BOOL: engine.get_bool_variable,
              Kind.DOUBLE: engine.get_double_variable,
              Kind.STRING: engine.get_string_variable}[param.kind]
    return getter(param.name)


def test_process_global_parameters_stay_with_their_engine(pages):
    values, picks = _global_sample()
    before = TessApi()
    defaults = {kind: _read(before, param) for kind, param in picks.items()}
    values[Kind.BOOL] = not defaults[Kind.BOOL]
    setter = TessApi(variables={picks[Kind.INT].name: values[Kind.INT]})
    for kind in (Kind.BOOL, Kind.DOUBLE, Kind.STRING):
        setter.set_variable(picks[kind].name, values[kind])
    after = TessApi()
    setter.set_image(pages["line"])
    setter.recognize()
    for kind, param in picks.items():
        assert _read(setter, param) == values[kind], param.name
        assert _read(before, param) == defaults[kind], param.name
        assert _read(after, param) == defaults[kind], param.name
    for engine in (before, setter, after):
        engine.close()


# ---- diagnostics ------------------------------------------------------------------------------

_NO_DPI = """
    import io
    from helpers.pages import PARAGRAPH, render
    image, _ = render(PARAGRAPH)
    image.info.pop("dpi")
    page = io.BytesIO()
    image.save(page, "PNG")
    page = page.getvalue()

    def run(engine):
        engine.set_image(page)
        engine.recognize()
"""


def test_debug_file_stays_with_its_engine(tmp_path):
    """Engine A's debug_file (a file, then "" for stderr) never reaches engines made
    before or after it; stderr stays clean for them (Tesseract's debug_file is global)."""
    log = tmp_path / "a.log"
    result = run_limited(_NO_DPI + f"""
    import sys
    from tightbind.ocr import TessApi
    early = TessApi()
    a = TessApi(variables={{"debug_file": {str(log)!r}}})
    late = TessApi()
    for engine in (early, a, late, early, late):
        run(engine)
    print("A", a.get_string_variable("debug_file") == {str(log)!r})
    sys.stdout.flush()
    a.set_variable("debug_file", "")
    for engine in (TessApi(), late, early):
        run(engine)
    sys.stderr.write("clean so far\\n")
    run(a)
    """, seconds=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["A", "True"]
    assert log.read_text().count("Estimating resolution") == 1
    before, after = result.stderr.split("clean so far\n")
    assert before == "" and "Estimating resolution" in after


def test_diagnostics_go_to_the_logger_by_default(caplog):
    image, _ = render(PARAGRAPH)
    image.info.pop("dpi")
    with caplog.at_level(logging.DEBUG, logger="tightbind.ocr"), TessApi() as engine:
        engine.set_image(image)
        engine.recognize()
        assert engine.get_string_variable("debug_file") != ""
    assert any("tesseract: Estimating resolution" in r.getMessage() for r in caplog.records)
