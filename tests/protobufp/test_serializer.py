"""protobufp.serializer: serialize() and unserialize(), as protobufp 0.2.x had them."""

from __future__ import annotations

import struct

import pytest


def test_unserialize(protos):
    from protobufp.processor import Processor
    from protobufp.serializer import Serializer
    from tightbind.framing import CorruptLength, PayloadDecodeError, UnknownMessageType

    test_msg = protos.test_msg.TestMsg
    processor = Processor([test_msg])
    assert isinstance(processor.serializer, Serializer)
    message = test_msg(left=7, center="x", right=8)
    frame = processor.serializer.serialize(message)
    assert processor.serializer.unserialize(frame[4:]) == message
    with pytest.raises(UnknownMessageType):
        processor.serializer.unserialize(struct.pack(">I", 3) + b"")
    with pytest.raises(CorruptLength, match="at least 4 bytes"):
        processor.serializer.unserialize(b"\x00\x00")
    with pytest.raises(PayloadDecodeError, match="TestMsg"):
        processor.serializer.unserialize(struct.pack(">I", 0) + b"\xff\xff")
