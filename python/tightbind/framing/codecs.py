"""The wire formats ("codecs"), described once for both scanners, and the Serializer.

A :class:`Codec` says where a frame's header keeps the payload length and the type id;
the native scanner turns it into a ``tb_frame_format`` (``csrc/frame.h``) and the pure
scanner reads headers with it directly, so both scan the same formats by construction.
The :class:`Serializer` writes frames from the same description.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from tightbind.framing.errors import FrameTooLarge, UnregisteredType

if TYPE_CHECKING:
    from tightbind.framing.processor import Processor

VARINT_MAX_BYTES = 10
"""Protobuf's varints hold 64 bits: at most 10 bytes, the tenth carrying only bit 63."""


class Codec(NamedTuple):
    """A frame layout: a fixed-width header with a u32be length field (and optionally a
    type field), or a varint payload length with nothing else."""

    name: str
    varint_length: bool = False  # the header is a varint payload length, no type field
    header_size: int = 0  # fixed: bytes in the header
    length_offset: int = 0  # fixed: offset of the u32be length field in the header
    length_bias: int = 0  # fixed: bytes the length counts that are not payload
    type_offset: int | None = None  # fixed: offset of the type field, None without one
    type_width: int = 0  # fixed: 1 (u8) or 4 (u32be)
    max_types: int = 1  # how many types the format can address
    max_payload: int = (1 << 64) - 1  # largest payload the format can express

    def header_writer(self) -> Callable[[int, int], bytes]:
        """Return ``header(payload_length, type_id) -> bytes`` for this layout."""
        if self.varint_length:
            return lambda payload_length, type_id: encode_varint(payload_length)
        fields = {self.length_offset: "I"}
        if self.type_offset is not None:
            fields[self.type_offset] = "B" if self.type_width == 1 else "I"
        layout, position = ">", 0
        for offset in sorted(fields):
            layout += f"{offset - position}x" * (offset > position) + fields[offset]
            position = offset + struct.calcsize(fields[offset])
        layout += f"{self.header_size - position}x" * (self.header_size > position)
        pack = struct.Struct(layout).pack
        bias = self.length_bias
        if self.type_offset is None:
            return lambda payload_length, type_id: pack(payload_length + bias)
        if self.type_offset < self.length_offset:
            return lambda payload_length, type_id: pack(type_id, payload_length + bias)
        return lambda payload_length, type_id: pack(payload_length + bias, type_id)


FORMATS = {
    # u32be 4+len | u32be type id | payload: what protobufp 0.2.x writes.
    "protobufp": Codec("protobufp", header_size=8, length_offset=0, length_bias=4,
                       type_offset=4, type_width=4, max_types=1 << 32,
                       max_payload=0xFFFFFFFF - 4),
    # varint len | payload: writeDelimitedTo, SerializeDelimitedToOstream, protodelim.
    "varint": Codec("varint", varint_length=True),
    # u8 compressed flag | u32be len | payload.  The flag sits where a type id would: 0 (an
    # uncompressed message) is the only "type" accepted.
    "grpc": Codec("grpc", header_size=5, length_offset=1, length_bias=0, type_offset=0,
                  type_width=1, max_types=1, max_payload=0xFFFFFFFF),
}
CODECS = tuple(FORMATS)


def encode_varint(value: int) -> bytes:
    """Return ``value`` (0 to 2**64 - 1) as a protobuf base-128 varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def full_name(message_type: Any) -> str:
    """Return a message class's protobuf full name; raise TypeError for anything else."""
    try:
        return str(message_type.DESCRIPTOR.full_name)
    except AttributeError:
        raise TypeError(f"{message_type!r} is not a protobuf message class") from None


class Serializer:
    """Frames messages for a :class:`Processor`'s codec and type list."""

    def __init__(self, processor: Processor) -> None:
        self._processor = processor
        self._type_ids = {full_name(t): index for index, t in enumerate(processor.msg_types)}
        self._header = FORMATS[processor.codec].header_writer()
        self._max_payload = processor.max_frame_size

    def type_id(self, message: Any) -> int:
        """Return the type id ``message`` is framed with.

        Raises UnregisteredType when ``message`` is not a protobuf message or its type is
        not one of the Processor's.
        """
        try:
            name = message.DESCRIPTOR.full_name
        except AttributeError:
            raise UnregisteredType(
                f"{type(message).__name__} is not a protobuf message"
            ) from None
        type_id = self._type_ids.get(name)
        if type_id is None:
            known = ", ".join(self._type_ids)
            raise UnregisteredType(
                f"message type {name!r} is not registered with this Processor (known: {known})"
            )
        return type_id

    def serialize(self, message: Any) -> bytes:
        """Return ``message`` as one frame: header and payload.

        Raises UnregisteredType for a type the Processor does not know and FrameTooLarge
        when the payload exceeds ``max_frame_size`` (the receiving side would refuse it).
        """
        type_id = self.type_id(message)
        payload = message.SerializeToString()
        if len(payload) > self._max_payload:
            raise FrameTooLarge(
                f"{message.DESCRIPTOR.full_name} serializes to {len(payload)} bytes, over "
                f"max_frame_size={self._max_payload}"
            )
        return self._header(len(payload), type_id) + payload

    def serialize_many(self, messages: Iterable[Any]) -> bytes:
        """Return the frames of all ``messages``, concatenated (raises as ``serialize``)."""
        return b"".join(map(self.serialize, messages))
