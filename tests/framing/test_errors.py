"""tightbind.framing.errors and _native.FAILURES: every status code of the C scanner
reaches its exception, with a sentence and never a bare number.

A stream code (TB_FRAME_E_LENGTH, _TOO_LARGE, _VARINT, _TYPE) is reached through a real
stream: the C scanner is first shown to return that code for it, then a Processor on
each backend raises the class FAILURES gives the code, at the offending frame's offset.
"""

from __future__ import annotations

import re
import struct

import pytest

from conftest import ROOT
from tightbind import TightbindError
from tightbind.framing import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    PayloadDecodeError,
    Processor,
    TruncatedStream,
    UnknownMessageType,
    UnregisteredType,
)
from tightbind.framing import _native as native
from tightbind.framing.codecs import FORMATS, Codec
from tightbind.framing.scanners import NativeScanner

ffi, lib = native.ffi, native.lib


def header_codes() -> list[str]:
    """The failure codes the framing extension's headers define: shared and framing."""
    text = (ROOT / "csrc" / "tightbind.h").read_text() + (ROOT / "csrc" / "frame.h").read_text()
    return re.findall(r"^#define (TB_E_\w+|TB_FRAME_E_\w+) ", text, re.M)


def test_every_code_in_the_headers_has_one_entry():
    names = header_codes()
    assert {"TB_E_NOMEM", "TB_E_ARG", "TB_FRAME_E_FORMAT", "TB_FRAME_E_TYPE"} <= set(names)
    codes = [getattr(lib, name) for name in names]
    assert len(set(codes)) == len(codes), "two codes share a number"
    assert sorted(native.FAILURES) == sorted(codes)


@pytest.mark.parametrize("name", header_codes())
def test_check_raises_the_tables_class_and_sentence(name):
    code = getattr(lib, name)
    cls, sentence = native.FAILURES[code]
    assert issubclass(cls, FramingError)
    with pytest.raises(cls) as info:
        native.check(code, "scanning a varint stream")
    assert str(info.value) == f"scanning a varint stream: {sentence}"
    assert str(code) not in str(info.value)
    assert native.check(0, "scanning") == 0


def test_check_names_an_unknown_code_as_a_bug():
    with pytest.raises(FramingError, match="status -999, which tightbind does not know"):
        native.check(-999, "scanning a grpc stream")


# name, codec, number of types, max_frame_size, hostile bytes after one good frame
STREAM_CASES = [
    ("TB_FRAME_E_LENGTH", "protobufp", 2, 1000, struct.pack(">II", 3, 0)),
    ("TB_FRAME_E_TOO_LARGE", "protobufp", 2, 1000, struct.pack(">II", 4 + 1001, 0)),
    ("TB_FRAME_E_TOO_LARGE", "varint", 1, 1000, b"\xe9\x07"),  # 1001
    ("TB_FRAME_E_TOO_LARGE", "grpc", 1, 1000, b"\x00" + struct.pack(">I", 1001)),
    ("TB_FRAME_E_VARINT", "varint", 1, 1000, b"\x80" * 10 + b"\x01"),
    ("TB_FRAME_E_VARINT", "varint", 1, 1000, b"\xff" * 9 + b"\x02"),
    ("TB_FRAME_E_TYPE", "protobufp", 2, 1000, struct.pack(">II", 4 + 2, 7) + b"\x08\x01"),
    ("TB_FRAME_E_TYPE", "grpc", 1, 1000, b"\x01" + struct.pack(">I", 2) + b"\x08\x01"),
]


@pytest.mark.parametrize("name, codec, type_count, limit, hostile", STREAM_CASES,
                         ids=[f"{case[0]}-{case[1]}-{i}" for i, case in enumerate(STREAM_CASES)])
def test_stream_code_reaches_its_exception(types, backend, name, codec, type_count, limit,
                                           hostile):
    registered = list(types[1:1 + type_count])
    processor = Processor(registered, codec=codec, backend=backend, max_frame_size=limit)
    good = processor.serializer.serialize(types[1](x=1))
    stream = good + hostile

    # The C scanner returns exactly this code for the stream.
    scanner = NativeScanner(FORMATS[codec], type_count, limit)
    arrays = [ffi.new(kind, 8) for kind in ("uint32_t[]", "size_t[]", "size_t[]")]
    result = ffi.new("tb_frame_scan_result *")
    code = lib.tb_frame_scan(scanner.format, stream, len(stream), 0, *arrays, 8, result)
    assert code == getattr(lib, name)
    assert (result.frames, result.error_offset) == (1, len(good))

    processor.push(stream)
    assert processor.read_messages() == [types[1](x=1)]
    with pytest.raises(FramingError) as info:
        processor.read_messages()
    assert type(info.value) is native.FAILURES[code][0]
    assert info.value.offset == len(good)
    assert str(info.value).startswith(f"frame at stream offset {len(good)} ")


@pytest.mark.parametrize("description, start", [
    (Codec("broken", header_size=2, length_offset=0), 0),  # the length field overhangs
    (Codec("broken", header_size=8, type_offset=4, type_width=2), 0),  # no 2-byte types
    (FORMATS["varint"], 5),  # the scan would start past the end of the buffer
])
def test_invalid_format_reaches_its_exception(description, start):
    """TB_FRAME_E_FORMAT cannot come from a stream: a Processor only hands the C scanner
    the three valid layouts in codecs.FORMATS and a start inside its buffer.  A layout no
    codec has, or a start past the end, reaches it through the same scanner call."""
    scanner = NativeScanner(description, 1, 1000)
    cls, sentence = native.FAILURES[lib.TB_FRAME_E_FORMAT]
    with pytest.raises(cls) as info:
        scanner.scan(b"\x00\x00\x00\x00\x00\x00\x00\x00"[:4], start)
    assert str(info.value) == f"scanning a {description.name} stream: {sentence}"
    assert info.value.offset is None


# TB_E_NOMEM and TB_E_ARG have entries (tightbind.h defines them for every area), but no
# call of the framing extension returns them: tb_frame_scan never allocates, and it
# reports invalid arguments as TB_FRAME_E_FORMAT (above); tb_frame_struct_format returns
# a length, 0 when its buffer is too small.  No input can reach them.


def test_errors_share_one_base():
    for error in (FrameTooLarge, CorruptLength, UnknownMessageType, PayloadDecodeError,
                  UnregisteredType, TruncatedStream):
        assert issubclass(error, FramingError)
        assert issubclass(error, TightbindError)
