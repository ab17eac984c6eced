"""The ``tesseract`` command's arguments and config files, read as the command reads them.

:func:`parse_arguments` takes the words after ``tesseract IMAGE OUTPUTBASE`` (``-l``,
``--psm``, ``--oem``, ``--dpi``, ``--tessdata-dir``, ``--user-words``,
``--user-patterns``, ``--loglevel``, ``-c NAME=VALUE`` and config file names) and
returns a :class:`CommandLine` with the command's defaults applied, or raises
:class:`CommandLineError` with the message the command prints.  :func:`read_config_file`
reads a config file (``digits``, ``hocr``, ``tsv``, ... or a path) the way Tesseract
does: from ``<tessdata>/configs/``, then ``<tessdata>/tessconfigs/``, then as a path.

Used by :mod:`tightbind.ocr.pytesseract`, which runs the command's work in-process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from tightbind.ocr.errors import OcrError

__all__ = ["CommandLine", "CommandLineError", "parse_arguments", "read_config_file"]

#: Page segmentation and engine modes the command accepts (PSM_COUNT, OEM_COUNT).
PSM_COUNT = 14
OEM_COUNT = 4
LOG_LEVELS = ("ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF")
_ATOI = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
# Tesseract reads config files line by line into a buffer of this many bytes.
_CONFIG_LINE = 4096
# The longest config file read (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 1 << 20


class CommandLineError(OcrError, ValueError):
    """The ``tesseract`` command would refuse these arguments (its message is the text)."""


@dataclass
class CommandLine:
    """What the ``tesseract`` command makes of its arguments."""

    language: str = "eng"
    data_path: str | None = None
    dpi: int = 0
    psm: int = 3  # PSM_AUTO, the command's default (the library's is SINGLE_BLOCK)
    oem: int = 3  # OEM_DEFAULT
    #: ``-c``, ``--user-words`` and ``--user-patterns`` settings, in order.
    variables: list[tuple[str, str]] = field(default_factory=list)
    #: Config file names (``digits``, ``hocr``, ...), in order.
    configs: list[str] = field(default_factory=list)
    list_languages: bool = False


def _atoi(text: str) -> int:
    """C's atoi: leading blanks, a sign and digits; 0 when there are none."""
    match = _ATOI.match(text)
    if not match:
        return 0
    number = int(match.group(1))
    # atoi's behaviour outside int is undefined; glibc wraps like strtol's long to int.
    return (number + 2**31) % 2**32 - 2**31


def parse_arguments(words: list[str], *, language: str | None = None) -> CommandLine:
    """Parse ``tesseract IMAGE OUTPUTBASE WORDS...`` as the command's ParseArgs does.

    ``language`` is a ``-l`` given before ``words`` (pytesseract's ``lang=``).  Options
    are read while words start with ``-``; the first other word and all after it are
    config file names (so ``digits --psm 6`` names three config files, as for the
    command).  Raises :class:`CommandLineError` for what the command refuses.
    """
    line = CommandLine()
    lang = language
    index = 0
    while index < len(words) and words[index].startswith("-"):
        word = words[index]
        has_value = index + 1 < len(words)
        value = words[index + 1] if has_value else ""
        if word in ("-h", "--help", "--help-extra", "--help-psm", "--help-oem", "-v",
                    "--version", "--print-parameters", "--print-fonts-table"):
            raise CommandLineError(f"{word} prints to the terminal and runs no OCR; it has "
                                   "no meaning here")
        if word == "--list-langs":
            line.list_languages = True
            index += 1
            continue
        if not has_value or word not in ("-l", "--tessdata-dir", "--dpi", "--loglevel",
                                         "--user-words", "--user-patterns", "--psm",
                                         "--oem", "-c"):
            raise CommandLineError(f"Error, unknown command line argument '{word}'")
        if word == "-l":
            lang = value
        elif word == "--tessdata-dir":
            line.data_path = value
        elif word == "--dpi":
            line.dpi = _atoi(value)
        elif word == "--loglevel":
            if value not in LOG_LEVELS:
                raise CommandLineError(f"Error, unsupported --loglevel {value}")
        elif word == "--user-words":
            line.variables.append(("user_words_file", value))
        elif word == "--user-patterns":
            line.variables.append(("user_patterns_file", value))
        elif word == "--psm":
            line.psm = _atoi(value)
            if not 0 <= line.psm < PSM_COUNT:
                raise CommandLineError("Invalid PSM value, please enter a number between "
                                       f"0-{PSM_COUNT - 1}")
        elif word == "--oem":
            line.oem = _atoi(value)
            if not 0 <= line.oem < OEM_COUNT:
                raise CommandLineError("Invalid OEM value, please enter a number between "
                                       f"0-{OEM_COUNT - 1}")
        else:  # -c NAME=VALUE
            name, equals, setting = value.partition("=")
            if not equals:
                raise CommandLineError("Missing '=' in configvar assignment")
            line.variables.append((name, setting))
        index += 2
    line.configs = list(words[index:])
    if line.psm == 0 and (lang is None or lang == "osd"):
        lang = "osd"  # OSD needs osd.traineddata; with another -l only orientation works
    line.language = "eng" if lang is None else lang
    return line


def config_path(name: str, data_path: str) -> str:
    """Where Tesseract finds the config file ``name`` for an engine whose tessdata
    folder is ``data_path``: ``configs/``, then ``tessconfigs/``, else ``name`` itself."""
    for folder in ("configs", "tessconfigs"):
        candidate = os.path.join(data_path, folder, name)
        if os.path.isfile(candidate):
            return candidate
    return name


def read_config_file(name: str, data_path: str) -> list[tuple[str, str]] | None:
    """The settings of config file ``name`` in order, read as Tesseract reads them
    (lines ``NAME VALUE``; blank lines and ``#`` comments skipped; the value is the
    rest of the line after the blanks following the name), or None when there is no
    such readable file (Tesseract then says it cannot open it and goes on)."""
    path = config_path(name, data_path)
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_CONFIG_BYTES:
        raise CommandLineError(f"config file {path!r} is over {MAX_CONFIG_BYTES} bytes")
    settings = []
    for raw in _lines(data):
        if raw[:1] in (b"\r", b"\n", b"#") or not raw:
            continue
        text = raw.rstrip(b"\n")
        if text.endswith(b"\r"):
            text = text[:-1]
        name_end = 0
        while name_end < len(text) and text[name_end:name_end + 1] not in (b" ", b"\t"):
            name_end += 1
        value = text[name_end:].lstrip(b" \t")
        settings.append((text[:name_end].decode("utf-8", "replace"),
                         value.decode("utf-8", "replace")))
    return settings


def _lines(data: bytes) -> list[bytes]:
    """``data`` cut as fgets with a buffer of _CONFIG_LINE bytes cuts it."""
    out = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start, start + _CONFIG_LINE - 1)
        end = start + _CONFIG_LINE - 1 if end < 0 else end + 1
        out.append(data[start:min(end, len(data))])
        start = end
    return out
