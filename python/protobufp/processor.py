"""``protobufp.processor.Processor`` on tightbind.framing."""

from __future__ import annotations

from collections.abc import Sequence

from protobufp.serializer import Serializer
from tightbind import framing


class Processor(framing.Processor):
    """``Processor(msg_types)``: ``push(data)``, ``read_message()`` (None when no complete
    message is buffered) and ``serializer``, as in protobufp 0.2.x.  Everything
    tightbind.framing.Processor offers (``read_messages()``, iteration, limits) works too.
    """

    serializer_class = Serializer

    def __init__(
        self,
        msg_types: Sequence[type],
        *,
        max_frame_size: int = framing.DEFAULT_MAX_FRAME_SIZE,
        backend: str = "auto",
    ) -> None:
        super().__init__(msg_types, codec="protobufp", max_frame_size=max_frame_size,
                         backend=backend)
