"""``protobufp.serializer.Serializer``: frames messages, as protobufp 0.2.x did."""

from __future__ import annotations

import struct
from typing import Any

from tightbind import framing

_TYPE = struct.Struct(">I")


class Serializer(framing.Serializer):
    """``serialize(msg)`` returns one protobufp frame; ``unserialize(data)`` decodes
    ``u32be type | payload`` (a frame without its length field), as the original did."""

    def unserialize(self, serialized: bytes) -> Any:
        if len(serialized) < _TYPE.size:
            raise framing.CorruptLength(
                f"a protobufp body needs at least {_TYPE.size} bytes, got {len(serialized)}"
            )
        (type_id,) = _TYPE.unpack_from(serialized)
        types = self._processor.msg_types
        if type_id >= len(types):
            raise framing.UnknownMessageType(
                f"type id {type_id} is not below the {len(types)} registered types"
            )
        try:
            return types[type_id].FromString(serialized[_TYPE.size:])
        except Exception as exc:
            raise framing.PayloadDecodeError(
                f"payload is not a valid {types[type_id].DESCRIPTOR.full_name}: {exc}"
            ) from exc
