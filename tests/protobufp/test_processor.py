"""protobufp.processor: protobufp 0.2.4's own example runs unchanged; its defects are gone."""

from __future__ import annotations

import struct
import threading

import pytest

# protobufp 0.2.4's test/test.py, with only xrange -> range and cStringIO -> io.BytesIO.
SEED_EXAMPLE = '''
from io import BytesIO as StringIO
from test_msg_pb2 import TestMsg
from random import randint

from protobufp.processor import Processor

def get_random_message():
    rand = lambda: randint(11111111, 99999999)

    t = TestMsg()
    t.left = rand()
    t.center = "abc"
    t.right = rand()

    return t

messages = [get_random_message() for i in range(5)]

msg_types = [TestMsg]

p = Processor(msg_types)
s = StringIO()

i = 0
for msg in messages:
    print("Pushing message (%d)." % (i))
    s.write(p.serializer.serialize(msg))

    i += 1

p.push(s.getvalue())

j = 0
while 1:
    in_msg = p.read_message()
    if in_msg is None:
        break

    print("Read message (%d) of type [%s], and now verifying." %
          (j, in_msg.__class__.__name__))

    assert messages[j].left == in_msg.left
    assert messages[j].center == in_msg.center
    assert messages[j].right == in_msg.right

    j += 1
'''


def test_seed_example_runs_unchanged(protos, capsys):
    namespace: dict = {}
    exec(compile(SEED_EXAMPLE, "protobufp_test.py", "exec"), namespace)
    assert namespace["j"] == 5
    assert capsys.readouterr().out.count("and now verifying") == 5


def test_push_ending_inside_header_remainder(protos):
    """0.2.4 raised IndexError when a push ended 1-4 bytes short of a frame's end."""
    from protobufp.processor import Processor

    test_msg = protos.test_msg.TestMsg
    processor = Processor([test_msg])
    frame = processor.serializer.serialize(test_msg(left=1, center="abc", right=2))
    for short in range(1, 9):
        processor.push(frame[:-short])
        assert processor.read_message() is None
        processor.push(frame[-short:])
        assert processor.read_message() == test_msg(left=1, center="abc", right=2)


def test_max_frame_size_keyword(protos):
    """0.2.4 had no size limit: a hostile length made it buffer without bound."""
    from protobufp.processor import Processor
    from tightbind.framing import FrameTooLarge

    processor = Processor([protos.test_msg.TestMsg], max_frame_size=64)
    assert processor.codec == "protobufp"
    processor.push(struct.pack(">II", 4 + 65, 0))
    with pytest.raises(FrameTooLarge):
        processor.read_message()


def test_each_processor_has_its_own_lock(protos):
    """0.2.4 shared one lock between every instance; a held lock must not block others."""
    from protobufp.processor import Processor

    test_msg = protos.test_msg.TestMsg
    first, second = Processor([test_msg]), Processor([test_msg])
    frame = first.serializer.serialize(test_msg(left=1, center="", right=2))
    got = []
    with first._lock:  # hold one instance's lock, as a concurrent reader would
        worker = threading.Thread(target=lambda: (second.push(frame),
                                                  got.append(second.read_message())))
        worker.start()
        worker.join(timeout=10)
    assert got == [test_msg(left=1, center="", right=2)]
