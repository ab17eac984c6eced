"""tightbind.framing.codecs: the three wire formats, byte for byte, and the Serializer."""

from __future__ import annotations

import io
import struct

import pytest
from helpers.budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from tightbind.framing import FrameTooLarge, Processor, UnknownMessageType, UnregisteredType
from tightbind.framing.codecs import CODECS, FORMATS, encode_varint

# protobufp 0.2.4's frame of TestMsg(left=1, center="abc", right=2), from its README.
SEED_VECTOR = bytes.fromhex("0000000d00000000080112036162631802")


def test_protobufp_vector(types, backend):
    test_msg = types[0]
    processor = Processor([test_msg], backend=backend)
    assert processor.backend == backend
    assert processor.serializer.serialize(test_msg(left=1, center="abc", right=2)) == SEED_VECTOR
    processor.push(SEED_VECTOR)
    (message,) = processor.read_messages()
    assert (message.left, message.center, message.right) == (1, "abc", 2)


def test_protobufp_header_layout(types):
    processor = Processor(types)
    label = types[2](text="hello")
    frame = processor.serializer.serialize(label)
    payload = label.SerializeToString()
    assert frame == struct.pack(">II", 4 + len(payload), 2) + payload


def test_grpc_frame_layout_and_compressed_flag(types, backend):
    label = types[2]
    message = label(text="grpc")
    payload = message.SerializeToString()
    processor = Processor(label, codec="grpc", backend=backend)
    header = b"\x00" + struct.pack(">I", len(payload))
    assert processor.serializer.serialize(message) == header + payload
    processor.push(b"\x01" + struct.pack(">I", len(payload)) + payload)
    processor.push(processor.serializer.serialize(message))
    with pytest.raises(UnknownMessageType, match=r"compressed-flag 1.*not supported"):
        processor.read_messages()
    assert processor.read_messages() == [message]


@pytest.mark.parametrize("value, encoded", [
    (0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02"),
    (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"), (1 << 63, b"\x80" * 9 + b"\x01"),
    ((1 << 64) - 1, b"\xff" * 9 + b"\x01"),
])
def test_encode_varint_known_answers(value, encoded):
    # The examples of protobuf's encoding guide, and the 10-byte extremes.
    assert encode_varint(value) == encoded


def test_varint_interop_with_protobuf(types, backend, drain):
    # protobuf's own delimited functions came in 5.28; tests/framing/test_interop.py
    # checks the same streams against C++ and Java on every version.
    proto = pytest.importorskip("google.protobuf.proto", reason="protobuf before 5.28")

    label = types[2]
    messages = [label(text=str(i) * i, blob=b"\x00" * (i * 37)) for i in range(40)]
    stream = io.BytesIO()
    for message in messages:
        proto.serialize_length_prefixed(message, stream)
    processor = Processor(label, codec="varint", backend=backend)
    processor.push(stream.getvalue())
    assert drain(processor) == messages

    ours = io.BytesIO(processor.serializer.serialize_many(messages))
    parsed = [proto.parse_length_prefixed(label, ours) for _ in messages]
    assert parsed == messages
    assert ours.read() == b""


def test_varint_accepts_non_minimal_length(types, backend):
    point = types[1]
    payload = point(x=3).SerializeToString()
    # protobuf decoders accept a padded varint: 0x82 0x80 0x00 is 2.
    stream = bytes([len(payload) | 0x80, 0x80, 0x00]) + payload
    processor = Processor(point, codec="varint", backend=backend)
    processor.push(stream)
    assert processor.read_messages() == [point(x=3)]


@pytest.mark.parametrize("codec", CODECS)
def test_header_writer_follows_the_description(codec):
    """The Serializer's header carries the length (plus bias) and the type id where the
    codec description (which the scanners read) says they are."""
    description = FORMATS[codec]
    type_id = 7 if description.max_types > 1 else 0
    header = description.header_writer()(1000, type_id)
    if description.varint_length:
        assert header == encode_varint(1000)
        return
    assert len(header) == description.header_size
    length_at = description.length_offset
    assert struct.unpack_from(">I", header, length_at) == (1000 + description.length_bias,)
    assert description.type_offset is not None
    code = "B" if description.type_width == 1 else "I"
    assert struct.unpack_from(f">{code}", header, description.type_offset) == (type_id,)


def test_serialize_unregistered_type(types):
    processor = Processor([types[1]])
    with pytest.raises(UnregisteredType, match=r"shapes\.other\.Point.*not registered"):
        processor.serializer.serialize(types[3](name="x"))
    with pytest.raises(UnregisteredType, match="not a protobuf message"):
        processor.serializer.serialize(object())
    assert issubclass(UnregisteredType, TypeError)


@pytest.mark.parametrize("codec", CODECS)
def test_serialize_refuses_payload_over_max_frame_size(types, codec):
    label = types[2]
    processor = Processor([label], codec=codec, max_frame_size=10)
    assert processor.serializer.serialize(label(blob=b"a" * 8))  # 10 bytes: at the limit
    with pytest.raises(FrameTooLarge, match="serializes to 11 bytes, over max_frame_size=10"):
        processor.serializer.serialize(label(blob=b"a" * 9))


@settings(max_examples=examples(150), deadline=None)
@given(
    texts=st.lists(st.text(max_size=40), max_size=30),
    cuts=st.lists(st.integers(0, 10**5), max_size=8),
    backend=st.sampled_from(["native", "pure"]),
    codec=st.sampled_from(CODECS),
)
def test_round_trip(types, split, texts, cuts, backend, codec):
    label = types[2]
    messages = [label(text=t, blob=t.encode()[::-1]) for t in texts]
    processor = Processor([label], codec=codec, backend=backend)
    got = []
    for chunk in split(processor.serializer.serialize_many(messages), cuts):
        processor.push(chunk)
        got.extend(processor)
    assert got == messages
