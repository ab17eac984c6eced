"""tightbind.ocr.pytesseract against the real pytesseract 0.3.13 (which runs Debian's
``tesseract`` command, OMP_THREAD_LIMIT=1): the same calls on the same images, languages,
configs and output types give byte-identical results, and bad input raises the same
classes.

The only bytes allowed to differ are the ones naming a temporary file (hOCR and ALTO
name the input file, which for an image object is a temporary file of each package), a
PDF's creation date, and (against the installed wheel, whose Tesseract is newer than the
command's) the engine's version where an output names it.
"""

from __future__ import annotations

import functools
import io
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.images import multipage_tiff
from helpers.limits import run_limited
from helpers.pages import PARAGRAPH, render
from PIL import Image

from tightbind.ocr import command_run
from tightbind.ocr import pytesseract as mine

real = pytest.importorskip("pytesseract", reason="the real pytesseract is the oracle")

os.environ["OMP_THREAD_LIMIT"] = "1"  # the tesseract command the real one starts

_INPUT_NAME = re.compile(rb"/[^\s\"<>;]*tess_[^\s\"<>;]*_input\.[A-Z0-9]+")
_CREATION = re.compile(rb"/CreationDate \(D:[0-9+\-Z']*\)")
# The suite also runs against the installed wheel, whose Tesseract (5.5) is not the
# command's (Debian's 5.3): outputs that name the engine's version (hOCR's ocr-system,
# ALTO's softwareVersion) then differ in that name alone.
_OURS, _THEIRS = str(mine.get_tesseract_version()), str(real.get_tesseract_version())
SAME_ENGINE = _OURS == _THEIRS
# Nor do 5.3 and 5.5 write hOCR, ALTO and PDF alike (attributes, schema, object
# layout), so across engines those are compared by what they say (their words in order;
# a PDF by its frame), the rest byte for byte.
_HOCR_WORD = re.compile(rb"<span class=.ocrx_word[^>]*>(?:<[^>]+>)*([^<]*)<")
_ALTO_WORD = re.compile(rb'<String [^>]*CONTENT="([^"]*)"')


def _across_engines(value: bytes) -> bytes:
    if value.startswith(b"%PDF-"):
        return b"PDF " + bytes(value.rstrip().endswith(b"%%EOF"))
    if b"<alto" in value[:400]:
        return b"ALTO " + b" ".join(_ALTO_WORD.findall(value))
    if b"ocr_page" in value:
        return b"hOCR " + b" ".join(_HOCR_WORD.findall(value))
    return value


def _normal(value: object) -> object:
    if isinstance(value, str):
        return _normal(value.encode()).decode()  # type: ignore[union-attr]
    if isinstance(value, bytes):
        value = _CREATION.sub(b"/CreationDate ()", _INPUT_NAME.sub(b"INPUT", value))
        return value if SAME_ENGINE else _across_engines(value)
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    return value


def same(call: str, image: object, *args: object, **kwargs: object) -> object:
    """Call ``call`` on both packages; assert equal results (or exceptions of the same
    class: the same built-in class, or pytesseract's class of the same name) and return
    ours (or our exception)."""
    try:
        expected: object = getattr(real, call)(image, *args, **kwargs)
    except Exception as exc:  # the oracle's exception class is the expectation
        with pytest.raises(Exception) as info:
            getattr(mine, call)(image, *args, **kwargs)
        if type(exc).__module__.startswith("pytesseract"):
            assert type(info.value).__name__ == type(exc).__name__, info.value
            assert isinstance(info.value, type(exc).__mro__[1]), info.value
            assert str(info.value), "the message is empty"
        else:
            assert isinstance(info.value, type(exc)), (exc, info.value)
        return info.value
    got = getattr(mine, call)(image, *args, **kwargs)
    if hasattr(expected, "equals"):  # a DataFrame
        assert expected.equals(got)  # type: ignore[attr-defined]
    else:
        assert _normal(got) == _normal(expected)
    return got


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pytesseract")
    paragraph, _ = render(PARAGRAPH)
    word, _ = render(["Invoice"], margin=20)
    line, _ = render(["Hello tightbind 4711"], margin=20)
    digits, _ = render(["Total 385.20 EUR on 2024-07-01"], margin=20)
    out = {"paragraph": folder / "paragraph.png", "word": folder / "word.png",
           "line": folder / "line.png", "digits": folder / "digits.png",
           "jpeg": folder / "line.jpg", "tiff": folder / "pages.tif"}
    paragraph.save(out["paragraph"], dpi=(300, 300))
    word.save(out["word"])
    line.save(out["line"])
    digits.save(out["digits"])
    line.convert("RGB").save(out["jpeg"], quality=90)
    buffer = io.BytesIO()
    bare = [Image.frombytes("L", page.size, page.tobytes()) for page in (paragraph, line, word)]
    bare[0].save(buffer, "TIFF", save_all=True, append_images=bare[1:])
    out["tiff"].write_bytes(buffer.getvalue())
    return out


# ---- outputs ---------------------------------------------------------------------------

CALLS = [
    ("image_to_string", {}),
    ("image_to_string", {"output_type": "bytes"}),
    ("image_to_string", {"output_type": "dict"}),
    ("image_to_data", {}),
    ("image_to_data", {"output_type": "dict"}),
    ("image_to_boxes", {}),
    ("image_to_boxes", {"output_type": "dict"}),
    ("image_to_pdf_or_hocr", {"extension": "hocr"}),
    ("image_to_pdf_or_hocr", {}),
    ("image_to_alto_xml", {}),
]


@pytest.mark.parametrize(("call", "kwargs"), CALLS,
                         ids=[f"{call}-{'-'.join(map(str, kw.values()))}" for call, kw in CALLS])
def test_outputs_equal_pytesseract(images, call, kwargs):
    same(call, str(images["line"]), **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["paragraph", "word", "jpeg", "tiff"])
def test_paths_of_every_kind(images, name):
    same("image_to_string", str(images[name]))
    same("image_to_data", str(images[name]))


@pytest.mark.slow
def test_a_full_page(phototest):
    same("image_to_string", str(phototest))
    same("image_to_data", Image.open(phototest))


@pytest.mark.slow
@pytest.mark.parametrize("extensions", [["txt", "hocr", "pdf"], ["tsv", "txt"],
                                        ["box", "txt"], ["xml"],
                                        ["txt", "hocr", "tsv", "box", "pdf", "xml"]])
def test_multiple_outputs_from_one_run(images, extensions):
    """One recognition, several files; as in pytesseract, only the first extension's
    setting follows its -c, so some combinations find no file (FileNotFoundError)."""
    path = str(images["line"])
    try:
        theirs = real.run_and_get_multiple_output(path, extensions)
    except FileNotFoundError:
        with pytest.raises(FileNotFoundError):
            mine.run_and_get_multiple_output(path, extensions)
        return
    ours = mine.run_and_get_multiple_output(path, extensions)
    assert [_normal(item) for item in ours] == [_normal(item) for item in theirs]


@pytest.mark.slow
def test_osd(phototest):
    assert "Script: Latin" in same("image_to_osd", str(phototest))  # type: ignore[operator]
    same("image_to_osd", str(phototest), output_type="dict")


def test_dataframe_without_pandas(images, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(mine.PandasNotSupported, match="Missing pandas package"):
        mine.image_to_data(str(images["word"]), output_type=mine.Output.DATAFRAME)
    assert mine.pandas_installed is False


@pytest.mark.slow
def test_osd_with_too_few_characters(images):
    error = same("image_to_osd", str(images["word"]))
    assert isinstance(error, mine.TesseractError)


def test_dataframe(images):
    pytest.importorskip("pandas")
    frame = same("image_to_data", str(images["line"]), output_type="data.frame")
    assert list(frame["text"].dropna())[-1] == "4711"  # type: ignore[index]


# ---- images ----------------------------------------------------------------------------

MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I", "CMYK", "F", "YCbCr"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_pillow_modes(images, mode):
    image = Image.open(images["line"]).convert("L")
    if mode in ("LA", "PA", "RGBA"):
        image = image.convert(mode)
        image.putalpha(Image.linear_gradient("L").resize(image.size))  # some transparency
    else:
        image = image.convert(mode)
    same("image_to_string", image)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "BMP", "GIF", "PPM", "WEBP"])
def test_pillow_images_keep_their_format(images, fmt):
    """pytesseract saves an opened image in its own format (a JPEG again as JPEG)."""
    buffer = io.BytesIO()
    Image.open(images["line"]).convert("RGB" if fmt == "JPEG" else "L").save(buffer, fmt)
    same("image_to_string", Image.open(io.BytesIO(buffer.getvalue())))


@pytest.mark.slow
def test_pdf_of_a_jpeg_embeds_the_same_file(images):
    same("image_to_pdf_or_hocr", Image.open(images["jpeg"]))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gray", "rgb", "rgba", "bool"])
def test_numpy_arrays(images, kind):
    gray = np.asarray(Image.open(images["line"]).convert("L"))
    array = {"gray": gray, "rgb": np.stack([gray] * 3, axis=-1),
             "rgba": np.dstack([gray, gray, gray, np.full_like(gray, 255)]),
             "bool": gray > 128}[kind]
    same("image_to_string", array)


@pytest.mark.slow
def test_multipage_tiff_image_object_is_its_first_frame():
    image = Image.open(io.BytesIO(multipage_tiff(pages=2)))
    same("image_to_string", image)


# ---- configs ---------------------------------------------------------------------------

CONFIGS = [
    "--psm 7", "--psm 8", "--psm 6 --oem 1", "--oem 0", "digits", "--psm 7 digits",
    "-c tessedit_char_whitelist=0123456789", "-c tessedit_char_blacklist=aeiou",
    "--dpi 150", "-c load_system_dawg=0 -c load_freq_dawg=0", "--psm 11",
    "-c preserve_interword_spaces=1", "-c page_separator=", "-c no_such_variable=1",
    "-c tessedit_pageseg_mode=6", "--psm 4 hocr", "tsv", "-c tessedit_do_invert=0",
    "--tessdata-dir /usr/share/tesseract-ocr/5/tessdata", "no-such-config-file",
    "digits --psm 6", "-c tessedit_create_pdf=1", "--loglevel ERROR",
    "-c tessedit_page_number=0", "unlv", "lstmbox", "wordstrbox", "--psm 2",
    "-c textonly_pdf=1 pdf", "-c document_title=Scan",
]


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS)
def test_configs(images, config):
    same("image_to_string", str(images["digits"]), config=config)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["--psm 7", "digits", "-c hocr_font_info=1"])
def test_configs_reach_every_renderer(images, config):
    same("image_to_data", str(images["digits"]), config=config)
    same("image_to_pdf_or_hocr", str(images["digits"]), config=config, extension="hocr")


def test_settings_last_one_call_only(images):
    """A runtime setting of one call (the whitelist) is gone for the next."""
    path = str(images["line"])
    assert "H" not in mine.image_to_string(path, config="-c tessedit_char_whitelist=0147")
    assert mine.image_to_string(path) == real.image_to_string(path)


@pytest.mark.slow
def test_tiff_page_number(images):
    same("image_to_string", str(images["tiff"]), config="-c tessedit_page_number=1")


# ---- languages (Debian's packs: tesseract-ocr-deu, -ara, -chi-sim, -chi-sim-vert) ----

LANGUAGE_CASES = [("deu", ["Größe und Übermaß", "für Straßen"], ""),
                  ("deu+eng", ["The Straße is long", "and quiet"], ""),
                  ("ara", ["مرحبا بالعالم", "هذا اختبار"], ""),
                  ("chi_sim", ["Total 385 EUR"], ""),
                  ("chi_sim_vert", ["Total 385"], "--psm 5")]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "lines", "config"), LANGUAGE_CASES,
                         ids=[case[0] for case in LANGUAGE_CASES])
def test_languages(tmp_path, lang, lines, config):
    for code in lang.split("+"):
        if code not in mine.get_languages():
            pytest.skip(f"Debian's tesseract-ocr-{code.replace('_', '-')} is not installed")
    image, _ = render(lines, margin=30)
    if lang == "chi_sim_vert":
        image = image.rotate(-90, expand=True, fillcolor=255)
    path = tmp_path / "page.png"
    image.save(path)
    same("image_to_string", str(path), lang=lang, config=config)
    same("image_to_data", str(path), lang=lang, config=config)


def test_get_languages_and_version():
    assert set(real.get_languages()) <= set(mine.get_languages())
    assert mine.get_languages("--tessdata-dir /usr/share/tesseract-ocr/5/tessdata") == \
        real.get_languages("--tessdata-dir /usr/share/tesseract-ocr/5/tessdata")
    if SAME_ENGINE:
        assert mine.get_tesseract_version() == real.get_tesseract_version()
    else:  # the installed wheel: its own Tesseract's version
        from tightbind.ocr import TessApi

        assert TessApi.version().startswith(str(mine.get_tesseract_version()))
    assert mine.get_languages("--tessdata-dir /nowhere") == []


# What ``tesseract --list-langs CONFIG`` makes of each: unknown words are file names to it,
# an option it refuses lists nothing.
LIST_CONFIGS = ["--tessdata-dir /usr/share/tesseract-ocr/5/tessdata/", "--tessdata-dir /dev/null",
                "--tessdata-dir=elsewhere/", "--bogus", "-l", "--psm 99", "--oem 9",
                "-c novalue", "--psm 6 --tessdata-dir /nowhere", "--tessdata-dir",
                "image.png --tessdata-dir /nowhere", "--bogus --tessdata-dir /nowhere",
                "image.png out --tessdata-dir /nowhere", "--tessdata-dir /nowhere image.png"]


@pytest.mark.parametrize("config", LIST_CONFIGS)
def test_get_languages_reads_config_as_the_command(config):
    expected = real.get_languages.__wrapped__(config)
    got = mine.get_languages.__wrapped__(config)
    if "ara" in expected:  # the system's folder: ours lists every folder reachable
        assert set(expected) <= set(got)
    else:
        assert got == expected


def test_get_languages_cached():
    first = mine.get_languages("--tessdata-dir /nowhere")
    assert mine.get_languages(cached=True) is first
    assert mine.get_tesseract_version(cached=True) == mine.get_tesseract_version()


def test_a_file_list_is_read_as_the_command_reads_it(images, tmp_path, monkeypatch):
    monkeypatch.chdir(images["line"].parent)
    listing = tmp_path / "images.txt"
    listing.write_text(f"{images['line'].name}\n{images['word']}\n")
    for call in ("image_to_string", "image_to_data", "image_to_boxes"):
        same(call, str(listing))
    listing.write_text(f"{images['line'].name}\nmissing.png\n")
    error = same("image_to_string", str(listing))
    assert "missing.png" in str(error)


def test_helpers_named_as_pytesseract_names_them(tmp_path):
    assert mine.pytesseract is mine  # pytesseract.pytesseract.tesseract_cmd = ... works
    assert mine.numpy_installed is True and mine.pandas_installed is True
    assert mine.get_errors(b"Error one\nError two\n") == real.pytesseract.get_errors(
        b"Error one\nError two\n")
    for value, kind in [("12", int), ("1.5", int), ("1.5", float), ("x", float), ("", str)]:
        assert mine.is_valid(value, kind) is real.pytesseract.is_valid(value, kind)
    for name in ("tess_a.txt", "tess_a.tsv", "other.txt"):
        (tmp_path / name).write_text("x")
    mine.cleanup(str(tmp_path / "tess_a"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.txt"]
    mine.cleanup(str(tmp_path / "nothing"))
    image = Image.new("LA", (8, 8))
    assert mine.prepare(image)[1] == real.pytesseract.prepare(image)[1] == "PNG"
    assert mine.prepare(image)[0].mode == real.pytesseract.prepare(image)[0].mode


def test_devices_and_pipes_are_refused(tmp_path):
    """Read as a path or from a file list, /dev/zero and a pipe without a writer raise
    at once (a plain read would never end); in a limited child, should that regress."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    listing = tmp_path / "images.txt"
    listing.write_text("/dev/zero\n")
    result = run_limited(f"""
        from tightbind.ocr import pytesseract
        for path in ("/dev/zero", {str(fifo)!r}, {str(listing)!r}):
            try:
                pytesseract.image_to_string(path)
            except pytesseract.TesseractError as exc:
                assert "not a regular file" in str(exc), exc
            else:
                raise AssertionError(path)
        print("refused")
        """, seconds=60)
    assert result.stdout.strip() == "refused", result.stderr


@pytest.mark.parametrize("argv", [["x", "{word}"], ["x", "-l", "eng", "{word}"],
                                  ["x", "{missing}"], ["x"], ["x", "-l", "{word}"]])
def test_main(images, tmp_path, monkeypatch, capsys, argv):
    names = {"word": str(images["word"]), "missing": str(tmp_path / "missing.png")}
    outcomes = []
    for package in (real, mine):
        monkeypatch.setattr("sys.argv", [arg.format(**names) for arg in argv])
        outcomes.append((package.pytesseract.main(), *capsys.readouterr()))
    assert outcomes[0] == outcomes[1]


# ---- bad input --------------------------------------------------------------------------

BAD_IMAGES = [b"\x89PNG", 42, None, Path("x.png"), [1, 2], np.zeros((0, 0), np.uint8),
              np.zeros((4, 4), np.complex64)]


@pytest.mark.parametrize("image", BAD_IMAGES, ids=lambda value: type(value).__name__)
@pytest.mark.parametrize("call", ["image_to_string", "image_to_data", "image_to_boxes",
                                  "image_to_osd", "image_to_alto_xml",
                                  "image_to_pdf_or_hocr"])
def test_bad_images(call, image):
    same(call, image)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/no/such/file.png", "README-not-here", "/etc/hostname",
                                  "/"])
def test_bad_paths(path):
    error = same("image_to_string", path)
    assert isinstance(error, mine.TesseractError)
    assert error.status == 1 and error.message


BAD_CONFIGS = ["--psm 99", "--oem 7", "-c novalue", "--bogus", "-l", "--psm",
               "'unbalanced", "--loglevel LOUD", 42, b"--psm 6"]


@pytest.mark.parametrize("config", BAD_CONFIGS, ids=repr)
def test_bad_configs(images, config):
    same("image_to_string", str(images["word"]), config=config)
    same("image_to_data", str(images["word"]), config=config)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["xyz", "eng+xyz", "../eng", 42, "", "e\0ng"],
                         ids=repr)
def test_bad_languages(images, lang):
    same("image_to_string", str(images["word"]), lang=lang)


def test_missing_language_message_names_the_package(images):
    with pytest.raises(mine.TesseractError) as info:
        mine.image_to_string(str(images["word"]), lang="xyz")
    assert "apt-get install tesseract-ocr-xyz" in info.value.message


@pytest.mark.slow
@pytest.mark.parametrize(("kwargs"), [
    {"output_type": "nope"}, {"nice": "abc"}, {"nice": 5}, {"timeout": "1"},
    {"timeout": -1}, {"extension": "txt"}])
def test_bad_arguments(images, kwargs):
    call = "image_to_pdf_or_hocr" if "extension" in kwargs else "image_to_string"
    same(call, str(images["word"]), **kwargs)


@pytest.mark.slow
def test_timeout_raises_what_pytesseract_raises():
    """In a child under a hard limit: the deadline holds, the error is pytesseract's, and
    the next call (a fresh engine) works."""
    result = run_limited("""
        import time
        from PIL import Image
        from helpers.pages import render
        from tightbind.ocr import pytesseract
        word, _ = render(["Again"], margin=20)
        pytesseract.image_to_string(word)  # the model loaded: the deadline is recognition's
        page = Image.effect_noise((2400, 2400), 90).convert("L")
        started = time.monotonic()
        pytesseract._encode(page, "PNG")
        encoding = time.monotonic() - started  # before the deadline, as pytesseract's save
        started = time.monotonic()
        try:
            pytesseract.image_to_string(page, timeout=0.05)
        except RuntimeError as exc:
            # The page needs far longer than this (tens of seconds); the margin is for a
            # loaded machine decoding the image before the deadline starts.
            print("raised", repr(exc), time.monotonic() - started < encoding + 5.0)
        print("next", pytesseract.image_to_string(word).strip())
    """, seconds=60, memory_mib=2048)
    assert result.returncode == 0, result.stderr
    assert "raised RuntimeError('Tesseract process timeout') True" in result.stdout
    assert "next Again" in result.stdout


# ---- engines -----------------------------------------------------------------------------


def test_engines_are_loaded_once_per_thread(images):
    path = str(images["word"])
    mine.image_to_string(path)
    engines = dict(command_run._local.engines)
    mine.image_to_data(path, config="--psm 7 -c tessedit_char_whitelist=abc")
    mine.image_to_boxes(path)
    assert all(command_run._local.engines.get(key) is api for key, api in engines.items())
    elsewhere: list[object] = []
    thread = threading.Thread(
        target=lambda: (mine.image_to_string(path),
                        elsewhere.extend(command_run._local.engines.values())))
    thread.start()
    thread.join()
    assert elsewhere and not set(map(id, elsewhere)) & set(map(id, engines.values()))


@pytest.mark.parametrize("command", ["tesseract", sys.executable, "python3"])
def test_tesseract_cmd_naming_a_program_is_accepted_and_not_run(images, command):
    """The default needs no program; any program that exists is accepted, never run."""
    mine.tesseract_cmd = command
    try:
        assert mine.image_to_string(str(images["word"])).strip() == "Invoice"
        assert mine.get_languages.__wrapped__()
        assert mine.get_tesseract_version.__wrapped__()
    finally:
        mine.tesseract_cmd = "tesseract"


def _peer_error(call: Any) -> type[BaseException] | None:
    try:
        call()
    except BaseException as exc:  # the class is what is compared
        return type(exc)
    return None


@pytest.mark.parametrize("command", ["wrong_tesseract", "/nowhere/tesseract", "", "/",
                                     "{tmp}/not-executable", "not-executable"])
def test_tesseract_cmd_that_cannot_run_fails_as_pytesseracts(images, command, tmp_path,
                                                              monkeypatch):
    """pytesseract's own suite sets tesseract_cmd to programs that cannot be started and
    expects its errors: the face raises the same classes at the same calls."""
    (tmp_path / "not-executable").write_text("not a program")
    (tmp_path / "not-executable").chmod(0o644)
    command = command.format(tmp=tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    word = str(images["word"])
    calls = {
        "image_to_string": lambda module: module.image_to_string(word),
        "image_to_data": lambda module: module.image_to_data(word),
        "get_languages": lambda module: module.get_languages.__wrapped__(),
        "get_tesseract_version": lambda module: module.get_tesseract_version.__wrapped__(),
    }
    for name, call in calls.items():
        expected = None
        if real is not None:
            real.pytesseract.tesseract_cmd = command
            try:
                expected = _peer_error(functools.partial(call, real))
            finally:
                real.pytesseract.tesseract_cmd = "tesseract"
        mine.tesseract_cmd = command
        try:
            got = _peer_error(functools.partial(call, mine))
        finally:
            mine.tesseract_cmd = "tesseract"
        assert got is not None and issubclass(got, OSError), (name, got)
        if name.startswith("get_"):
            assert got is mine.TesseractNotFoundError, (name, got)
        if expected is not None:
            assert got.__name__ == expected.__name__, (name, command, got, expected)


def test_tesseract_not_found_says_how_to_need_no_program(images):
    mine.tesseract_cmd = "/nowhere/tesseract"
    try:
        with pytest.raises(mine.TesseractNotFoundError,
                           match=r"is not installed or it's not in your PATH\..*default"):
            mine.image_to_string(str(images["word"]))
    finally:
        mine.tesseract_cmd = "tesseract"


