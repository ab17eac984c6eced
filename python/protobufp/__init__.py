"""Drop-in replacement for the ``protobufp`` package (0.2.x), on tightbind.framing.

``protobufp.processor.Processor`` and ``protobufp.serializer.Serializer`` keep the old
names and wire format (``u32be 4+len | u32be type index | payload``) and run on Python 3
without the original's defects: a push that ends inside a frame header works, large
pushes are linear, frames have a size limit, and each Processor has its own lock.
"""

from protobufp.processor import Processor
from protobufp.serializer import Serializer

__all__ = ["Processor", "Serializer"]
