"""The exceptions tightbind.framing raises, all under :class:`tightbind.FramingError`.

Each also inherits the built-in a user would catch for it (``FrameTooLarge`` is a
``ValueError``).  ``offset`` (see FramingError) is the stream offset of the offending
frame's first header byte when the error concerns a position in the stream.
"""

from __future__ import annotations

from tightbind.errors import FramingError

__all__ = [
    "CorruptLength",
    "FrameTooLarge",
    "FramingError",
    "PayloadDecodeError",
    "TruncatedStream",
    "UnknownMessageType",
    "UnregisteredType",
]


class FrameTooLarge(FramingError, ValueError):
    """A frame announces (or a message would need) a payload over ``max_frame_size``."""


class CorruptLength(FramingError, ValueError):
    """A length field no valid frame can have: the stream is not in this format."""


class UnknownMessageType(FramingError, LookupError):
    """A frame's type id does not name one of the Processor's message types."""


class UnregisteredType(FramingError, TypeError):
    """``serialize`` was given a message whose type the Processor does not know."""


class PayloadDecodeError(FramingError, ValueError):
    """A frame's payload is not a valid message of its type."""


class TruncatedStream(FramingError, EOFError):
    """The connection closed in the middle of a frame."""
