"""Load ``tightbind._frame`` (the C scanner, ``csrc/frame.c``) and ``check()`` its codes.

Only the native scanner (:class:`tightbind.framing.scanners.NativeScanner`) imports this
module, and only when the first native Processor is made: the rest of tightbind.framing,
the pure-Python scanner included, works when ``tightbind._frame`` was not compiled.
Importing this module without it raises ImportError naming the packages to install.

``FAILURES`` maps every code ``tb_frame_scan`` can return below zero, and the shared
``TB_E_*`` codes, to the exception a user gets and a sentence saying what to do.  The
stream codes (``TB_FRAME_E_LENGTH``, ``_TOO_LARGE``, ``_VARINT``, ``_TYPE``) reach users
through a Processor, which raises the same classes with the frame's offset and the
rejected value (see ``Processor`` in ``processor.py``); ``check`` raises for the codes
that mean the call itself failed.
"""

from __future__ import annotations

from tightbind._native import Failures, checker, load
from tightbind.framing.errors import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    UnknownMessageType,
)

_module = load("frame")
ffi = _module.ffi
lib = _module.lib

_BUG = 'a tightbind bug: please report it; backend="pure" avoids the native scanner'

# What each status code raises, and the sentence after "<what>: ".
FAILURES: Failures = {
    lib.TB_E_NOMEM: (FramingError, f"out of memory ({_BUG})"),
    lib.TB_E_ARG: (FramingError, f"the native scanner was given an invalid argument ({_BUG})"),
    lib.TB_FRAME_E_FORMAT: (
        FramingError,
        f"the frame layout given to the native scanner is invalid, or the scan starts past "
        f"the end of the buffer ({_BUG})"),
    lib.TB_FRAME_E_LENGTH: (
        CorruptLength,
        "a frame's length field is smaller than the header bytes it must count: the peer "
        "is not speaking this codec; drop the connection (or reset() to start over)"),
    lib.TB_FRAME_E_TOO_LARGE: (
        FrameTooLarge,
        "a frame announces a payload over max_frame_size: raise the limit if the peer is "
        "right, otherwise drop the connection (the stream is unusable until reset())"),
    lib.TB_FRAME_E_VARINT: (
        CorruptLength,
        "a length varint is longer than 10 bytes or over 64 bits: the peer is not speaking "
        "the varint codec; drop the connection (or reset() to start over)"),
    lib.TB_FRAME_E_TYPE: (
        UnknownMessageType,
        "a frame's type id names none of the Processor's message types (for gRPC: the "
        "message is compressed): register the type, or skip the frame and read on"),
}
check = checker(FAILURES, unexpected=FramingError)
