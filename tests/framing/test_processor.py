"""tightbind.framing.processor: chunking, reading, offsets, state after errors, threads."""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
import threading

import pytest

from conftest import child_env
from tightbind.framing import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    PayloadDecodeError,
    Processor,
    UnknownMessageType,
)
from tightbind.framing.codecs import CODECS


@pytest.mark.parametrize("assemble", [None, 1, 30])
@pytest.mark.parametrize("codec", CODECS)
def test_every_split_point(types, sample_messages, drain, assemble_from, backend, codec,
                           assemble):
    messages = list(sample_messages)
    if codec != "protobufp":
        messages = [m for m in messages if isinstance(m, types[2])]
        messages += [types[2](text="t" * n) for n in (0, 1, 127, 128, 129)]
        registered = [types[2]]
    else:
        registered = list(types)
    stream = Processor(registered, codec=codec).serializer.serialize_many(messages)
    with assemble_from(assemble):
        for cut in range(len(stream) + 1):
            processor = Processor(registered, codec=codec, backend=backend)
            got = []
            for piece in (stream[:cut], stream[cut:]):
                processor.push(piece)
                got.extend(drain(processor))
            assert got == messages, cut
            assert processor.buffered == 0


def test_every_pair_of_split_points(types, drain, backend):
    point = types[1]
    messages = [point(x=i, y=-i) for i in range(3)] + [point()]
    stream = Processor([point]).serializer.serialize_many(messages)
    for first, second in itertools.combinations_with_replacement(range(len(stream) + 1), 2):
        processor = Processor([point], backend=backend)
        got = []
        for piece in (stream[:first], stream[first:second], stream[second:]):
            processor.push(piece)
            got.extend(drain(processor))
        assert got == messages, (first, second)


@pytest.mark.parametrize("codec", CODECS)
def test_one_byte_at_a_time_with_read_message(types, backend, codec):
    label = types[2]
    messages = [label(text="m" * n, blob=bytes(n)) for n in range(0, 200, 13)]
    processor = Processor([label], codec=codec, backend=backend)
    stream = processor.serializer.serialize_many(messages)
    got = []
    for i in range(len(stream)):
        processor.push(stream[i:i + 1])
        while (message := processor.read_message()) is not None:
            got.append(message)
    assert got == messages
    assert processor.read_message() is None


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "wide memoryview"])
def test_push_accepts_buffers(types, backend, kind):
    point = types[1]
    processor = Processor([point], backend=backend)
    stream = processor.serializer.serialize_many([point(x=1), point(x=2)])
    if kind == "bytearray":
        chunk = bytearray(stream)
    elif kind == "memoryview":
        chunk = memoryview(bytearray(stream))[0:]
    elif kind == "wide memoryview":
        padded = stream + bytes(-len(stream) % 4)
        chunk = memoryview(padded).cast("I")
    else:
        chunk = stream
    processor.push(chunk[:0] if kind != "wide memoryview" else b"")
    processor.push(chunk)
    if isinstance(chunk, bytearray):
        chunk[:] = bytes(len(chunk))  # the Processor must have copied a mutable chunk
    assert processor.read_messages()[:2] == [point(x=1), point(x=2)]


def bytes_only(message_class, seen: list):
    """A stand-in for ``message_class`` whose parser refuses bytearray, as upb in protobuf
    4.x does ("expected bytes, bytearray found"), and lists the payload types it is given.
    """

    def from_string(payload):
        seen.append(type(payload))
        if isinstance(payload, bytearray):
            raise TypeError(f"expected bytes, {type(payload).__name__} found")
        return message_class.FromString(payload)

    return type(message_class.__name__, (), {"DESCRIPTOR": message_class.DESCRIPTOR,
                                             "FromString": staticmethod(from_string)})


PUSHES = ["bytes", "bytes split", "bytes bytewise", "bytearray", "bytearray split",
          "memoryview", "memoryview split", "assembled"]


@pytest.mark.parametrize("push", PUSHES)
@pytest.mark.parametrize("codec", CODECS)
def test_payloads_reach_the_parser_as_bytes_or_views(types, drain, assemble_from, backend,
                                                     codec, push):
    """Every path a payload takes to protobuf (scanner cuts, views of large payloads,
    joined partial frames, assembled frames) hands bytes or a memoryview, never a
    bytearray, for every kind of push (issue 12: upb 4.x refuses bytearray)."""
    label, point = types[2], types[1]
    registered = [label, point] if codec == "protobufp" else [label]
    messages = [label(text="t" * n, blob=bytes(n)) for n in (0, 1, 5, 130, 3000, 70_000)]
    messages += [label(text="s" * n) for n in range(60)]  # small ones after a large one
    if codec == "protobufp":
        messages += [point(x=n, y=-n) for n in range(5)]
    stream = Processor(registered, codec=codec).serializer.serialize_many(messages)
    seen: list[type] = []
    processor = Processor([bytes_only(t, seen) for t in registered], codec=codec,
                          backend=backend)
    seen.clear()  # the Processor asked each parser whether it takes a bytearray
    wrap = {"bytes": bytes, "bytearray": bytearray, "memoryview": memoryview,
            "assembled": bytes}[push.split()[0]]
    if push.endswith("bytewise"):
        cuts = range(len(stream) + 1)
    elif push.endswith("split") or push == "assembled":
        cuts = range(0, len(stream) + 997, 997)
    else:
        cuts = range(0, len(stream) + 1, len(stream))
    got = []
    with assemble_from(1 if push == "assembled" else None):
        for start, end in itertools.pairwise(cuts):
            processor.push(wrap(stream[start:end]))
            got.extend(drain(processor))
    assert got == messages
    assert len(seen) == len(messages)
    assert set(seen) <= {bytes, memoryview}, seen


def test_push_after_a_payload_error_in_a_view(types, backend):
    """A parser that fails while holding a view of its payload (as the pure-Python
    protobuf does) must not leave the buffer exported: the pushes after it work."""
    label = types[2]

    def from_string(payload):
        held = memoryview(payload)  # a local of the frame in the error's traceback
        if held[:1] == b"\xff":
            raise ValueError("not a Label")
        return label.FromString(payload)

    strict = type("Label", (), {"DESCRIPTOR": label.DESCRIPTOR,
                                "FromString": staticmethod(from_string)})
    processor = Processor([strict], codec="varint", backend=backend)
    good = processor.serializer.serialize(label(blob=bytes(5000)))
    bad = b"\x88\x27" + b"\xff" * 5000
    processor.push(good[:10])
    processor.push(good[10:] + bad + good[:10])  # a bytearray: large payloads are views
    assert processor.read_messages() == [label(blob=bytes(5000))]
    with pytest.raises(PayloadDecodeError, match="not a Label"):
        processor.read_messages()
    processor.push(good[10:])
    assert processor.read_messages() == [label(blob=bytes(5000))]


def test_push_rejects_str(types):
    with pytest.raises(TypeError, match="str"):
        Processor(types).push("text")


def test_iteration_is_lazy_and_complete(types, backend):
    point = types[1]
    processor = Processor(point, backend=backend)
    processor.push(processor.serializer.serialize_many(point(x=i) for i in range(20000)))
    iterator = iter(processor)
    assert next(iterator) == point(x=0)
    assert processor.buffered > 0  # the rest was not all decoded up front
    assert [m.x for m in iterator] == list(range(1, 20000))


def test_types_keyed_by_full_name(types, backend):
    _, point, _, other_point = types
    assert point.__name__ == other_point.__name__ == "Point"
    processor = Processor([point, other_point], backend=backend)
    stream = processor.serializer.serialize_many([other_point(name="a"), point(x=7)])
    processor.push(stream)
    assert processor.read_messages() == [other_point(name="a"), point(x=7)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"msg_types": []}, "empty"),
        ({"codec": "json"}, "unknown codec"),
        ({"backend": "fast"}, "unknown backend"),
        ({"max_frame_size": -1}, "max_frame_size"),
        ({"max_frame_size": 1 << 32}, "max_frame_size"),
        ({"max_frame_size": 1.5}, "max_frame_size"),
        ({"codec": "varint"}, "exactly one"),
        ({"codec": "grpc"}, "exactly one"),
    ],
)
def test_constructor_validation(types, kwargs, match):
    arguments = {"msg_types": list(types[1:3]), **kwargs}
    with pytest.raises(ValueError, match=match):
        Processor(**arguments)


def test_duplicate_and_non_message_types(types):
    with pytest.raises(ValueError, match="more than once"):
        Processor([types[1], types[1]])
    with pytest.raises(TypeError, match="not a protobuf message class"):
        Processor([int])


def test_unknown_type_is_skipped_and_stream_stays_aligned(types, backend):
    point = types[1]
    processor = Processor([point, types[2]], backend=backend)
    first = processor.serializer.serialize(point(x=1))
    bogus = struct.pack(">II", 4 + 2, 7) + b"\x08\x01"
    last = processor.serializer.serialize(point(x=3))
    for chunk in (first, bogus[:5], bogus[5:], last):
        processor.push(chunk)
    assert processor.read_messages() == [point(x=1)]
    with pytest.raises(UnknownMessageType, match="type id 7") as info:
        processor.read_messages()
    assert info.value.offset == len(first)
    assert processor.read_messages() == [point(x=3)]


def test_bad_payload_is_skipped_with_offset(types, backend):
    test_msg = types[0]
    processor = Processor([test_msg], backend=backend)
    good = processor.serializer.serialize(test_msg(left=1, center="a", right=2))
    truncated = struct.pack(">II", 4 + 4, 0) + b"\x12\x05ab"  # string field cut short
    garbage = struct.pack(">II", 4 + 3, 0) + b"\xff\xff\xff"
    processor.push(good * 2 + truncated + good + garbage + good)
    assert len(processor.read_messages()) == 2
    with pytest.raises(PayloadDecodeError, match=f"offset {2 * len(good)}.*TestMsg") as info:
        processor.read_messages()
    assert info.value.__cause__ is not None
    assert len(processor.read_messages()) == 1
    with pytest.raises(PayloadDecodeError) as info:
        processor.read_message()
    assert info.value.offset == 3 * len(good) + len(truncated)
    assert len(processor.read_messages()) == 1
    assert processor.read_messages() == []


def test_offsets_count_across_chunks_and_compaction(types, backend):
    point = types[1]
    processor = Processor([point], backend=backend)
    good = processor.serializer.serialize(point(x=5))
    total = 0
    for _ in range(50):
        processor.push(good[:3])
        processor.push(good[3:])
        total += len(good)
        assert processor.read_messages() == [point(x=5)]
    processor.push(struct.pack(">II", 2, 0))
    with pytest.raises(CorruptLength) as info:
        processor.read_messages()
    assert info.value.offset == total


def test_max_frame_size_boundary(types, backend):
    label = types[2]
    exact = label(blob=b"a" * 100)
    size = len(exact.SerializeToString())
    processor = Processor([label], backend=backend, max_frame_size=size)
    stream = processor.serializer.serialize(exact)
    processor.push(stream)
    assert processor.read_messages() == [exact]
    with pytest.raises(FrameTooLarge, match="max_frame_size"):
        processor.serializer.serialize(label(blob=b"a" * 101))
    processor.push(Processor([label]).serializer.serialize(label(blob=b"a" * 101)))
    with pytest.raises(FrameTooLarge, match=f"{size + 1}-byte"):
        processor.read_messages()


# -- frames past the assembly threshold ---------------------------------------------------


def test_large_frames_over_small_chunks(types, backend):
    """Frames past the assembly threshold, mixed with small ones and errors, in 64 KiB
    chunks: messages, offsets and leftovers all line up."""
    label, point = types[2], types[1]
    processor = Processor([label, point], backend=backend)
    serialize = processor.serializer.serialize
    big = label(blob=bytes(range(256)) * 4096)  # 1 MiB
    bad_type = struct.pack(">II", 4 + 300_000, 9) + bytes(300_000)
    bad_payload = struct.pack(">II", 4 + 300_000, 0) + b"\xff" * 300_000
    parts = [serialize(point(x=1)), serialize(big), bad_type, serialize(point(x=2)),
             bad_payload, serialize(big), serialize(point(x=3))]
    stream = b"".join(parts)
    offsets = list(itertools.accumulate(len(p) for p in parts))
    events = []
    for start in range(0, len(stream), 65536):
        processor.push(bytearray(stream[start:start + 65536]))
        while True:
            try:
                batch = processor.read_messages()
            except FramingError as exc:
                events.append((type(exc).__name__, exc.offset))
                continue
            if not batch:
                break
            events.extend(batch)
    assert events == [point(x=1), big, ("UnknownMessageType", offsets[1]), point(x=2),
                      ("PayloadDecodeError", offsets[3]), big, point(x=3)]
    assert processor.buffered == 0


def test_large_frame_buffered_count_and_truncation(types, backend):
    label = types[2]
    processor = Processor([label], backend=backend)
    frame = processor.serializer.serialize(label(blob=bytes(1 << 20)))
    processor.push(frame[:400_000])
    assert processor.read_messages() == []
    processor.push(memoryview(frame)[400_000:900_000])
    assert processor.read_messages() == []
    assert processor.buffered == 900_000
    processor.reset()
    assert processor.buffered == 0
    processor.push(frame)
    assert processor.read_messages() == [label(blob=bytes(1 << 20))]


MEMORY_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[3])
from shapes_pb2 import Label
from tightbind.framing import Processor

backend, chunk_size = sys.argv[1], int(sys.argv[2])
processor = Processor([Label], backend=backend)
frame = processor.serializer.serialize(Label(blob=bytes(1024 * 1024 - 64)))
stream = frame * 16
from helpers.rss import peak_kib
pushed = count = 0
baseline = None
while pushed < 1 << 30:
    for start in range(0, len(stream), chunk_size):
        processor.push(stream[start:start + chunk_size])
        count += len(processor.read_messages())
    pushed += len(stream)
    if baseline is None:
        baseline = peak_kib() * 1024
print(count, pushed // len(frame), baseline, peak_kib() * 1024)
"""


def test_one_gib_in_64k_chunks_keeps_memory_flat(protos, backend):
    # The child imports the session fixture's generated module from its directory.
    gen_dir = protos.shapes.__file__.rsplit("/", 1)[0]
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, backend, str(64 * 1024),
                             gen_dir], capture_output=True, text=True, check=True, timeout=300,
                            env=child_env())
    count, expected, baseline, peak = map(int, result.stdout.split())
    assert count == expected >= 1024
    # After the first 16 MiB the peak RSS may not grow by more than a few frames.
    assert peak - baseline < 8 * 1024 * 1024, (baseline, peak)


# -- threads ------------------------------------------------------------------------------


def test_shared_processor_hands_each_message_out_once(types, backend):
    point = types[1]
    processor = Processor([point], backend=backend)
    total = 20000
    processor.push(processor.serializer.serialize_many(point(x=i) for i in range(total)))
    seen: list[int] = []

    def consume():
        local = []
        while (message := processor.read_message()) is not None:
            local.append(message.x)
        seen.extend(local)

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(total))
