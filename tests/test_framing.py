"""tightbind.framing: codecs, chunking, errors, native/pure agreement, sockets."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import socket
import struct
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tightbind import FramingError, TightbindError, framing
from tightbind.framing import (
    CorruptLength,
    FrameTooLarge,
    PayloadDecodeError,
    Processor,
    TruncatedStream,
    UnknownMessageType,
    UnregisteredType,
)
from tightbind.framing import processor as processor_module

BACKENDS = ["native", "pure"]
SEED_VECTOR = bytes.fromhex("0000000d00000000080112036162631802")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def types(protos):
    """(TestMsg, shapes.Point, shapes.Label, shapes.other.Point)"""
    return (protos.test_msg.TestMsg, protos.shapes.Point, protos.shapes.Label,
            protos.other.Point)


def sample_messages(types):
    test_msg, point, label, other_point = types
    return [
        test_msg(left=1, center="abc", right=2),
        point(x=-5, y=1 << 40),
        label(),  # empty payload
        other_point(name="same simple name, other package"),
        label(text="x" * 300, blob=bytes(range(256)) * 3),
        test_msg(left=0xFFFFFFFF, center="", right=0),
        point(),
    ]


def drain(processor: Processor) -> list:
    out = []
    while batch := processor.read_messages():
        out.extend(batch)
    return out


# -- wire formats -------------------------------------------------------------------------


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


def test_varint_interop_with_protobuf(types, backend):
    from google.protobuf import proto

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


@contextlib.contextmanager
def assemble_from(size: int | None):
    """Gather incomplete frames of at least ``size`` bytes piecewise (None: the default),
    so the assembly path runs on small test data too."""
    saved = processor_module._ASSEMBLE_THRESHOLD
    processor_module._ASSEMBLE_THRESHOLD = saved if size is None else size
    try:
        yield
    finally:
        processor_module._ASSEMBLE_THRESHOLD = saved


@pytest.mark.parametrize("assemble", [None, 1, 30])
@pytest.mark.parametrize("codec", framing.CODECS)
def test_every_split_point(types, backend, codec, assemble):
    messages = sample_messages(types)
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


def test_every_pair_of_split_points(types, backend):
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


@pytest.mark.parametrize("codec", framing.CODECS)
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


def test_serialize_unregistered_type(types):
    processor = Processor([types[1]])
    with pytest.raises(UnregisteredType, match=r"shapes\.other\.Point.*not registered"):
        processor.serializer.serialize(types[3](name="x"))
    with pytest.raises(UnregisteredType, match="not a protobuf message"):
        processor.serializer.serialize(object())
    assert issubclass(UnregisteredType, TypeError)


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


def test_errors_share_one_base():
    for error in (FrameTooLarge, CorruptLength, UnknownMessageType, PayloadDecodeError,
                  UnregisteredType, TruncatedStream):
        assert issubclass(error, FramingError)
        assert issubclass(error, TightbindError)


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


# -- hostile input ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_protobufp_length_below_four_poisons(types, backend, length):
    point = types[1]
    processor = Processor([point], backend=backend)
    good = processor.serializer.serialize(point(x=1))
    processor.push(good + struct.pack(">II", length, 0) + good)
    assert processor.read_messages() == [point(x=1)]
    for _ in range(2):
        with pytest.raises(CorruptLength, match=f"offset {len(good)}") as info:
            processor.read_messages()
        assert info.value.offset == len(good)
    with pytest.raises(CorruptLength):
        processor.read_message()
    with pytest.raises(CorruptLength):
        processor.push(good)
    processor.reset()
    assert processor.buffered == 0
    processor.push(good)
    assert processor.read_messages() == [point(x=1)]


@pytest.mark.parametrize("length", [4, 5, 6, 7])
def test_protobufp_short_lengths_are_frames(types, backend, length):
    point = types[1]
    processor = Processor([point], backend=backend)
    payload = bytes([0x08, 0x01, 0x10])[: length - 4]  # x=1 then a truncated field
    processor.push(struct.pack(">II", length, 0) + payload)
    if length in (4, 6):
        assert processor.read_messages() == [point() if length == 4 else point(x=1)]
    else:
        with pytest.raises(PayloadDecodeError, match="offset 0"):
            processor.read_messages()
        assert processor.read_messages() == []


def test_huge_length_rejected_from_header_alone(types, backend):
    processor = Processor([types[1]], backend=backend)
    processor.push(b"\xff\xff\xff\xff")
    assert processor.read_messages() == []  # only half a header so far
    processor.push(b"\x00\x00\x00\x00")
    with pytest.raises(FrameTooLarge, match=r"4294967291-byte payload") as info:
        processor.read_messages()
    assert info.value.offset == 0
    assert isinstance(info.value, ValueError)


def test_claimed_size_is_never_allocated(types, backend):
    import tracemalloc

    point = types[1]
    processor = Processor([point], backend=backend, max_frame_size=0xFFFFFFFF - 4)
    tracemalloc.start()
    try:
        processor.push(b"\xff\xff\xff\xff\x00\x00\x00\x00" + b"\x08\x01" * 1000)
        assert processor.read_messages() == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert processor.buffered == 2008
    assert peak < 1 << 20


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


@pytest.mark.parametrize(
    "prefix, error",
    [
        (b"\x80" * 10 + b"\x01", CorruptLength),  # 11-byte varint
        (b"\xff" * 9 + b"\x02", CorruptLength),  # 10 bytes, over 64 bits
        (b"\x80" * 9 + b"\x01", FrameTooLarge),  # 2**63
        (b"\xff" * 9 + b"\x01", FrameTooLarge),  # 2**64 - 1
    ],
)
def test_hostile_varints(types, backend, prefix, error):
    processor = Processor(types[1], codec="varint", backend=backend)
    good = processor.serializer.serialize(types[1](x=9))
    processor.push(good + prefix)
    assert processor.read_messages() == [types[1](x=9)]
    with pytest.raises(error) as info:
        processor.read_messages()
    assert info.value.offset == len(good)


def test_incomplete_varint_waits(types, backend):
    processor = Processor(types[1], codec="varint", backend=backend)
    processor.push(b"\x80" * 9)  # could still become a valid 10-byte varint
    assert processor.read_messages() == []
    assert processor.buffered == 9


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


# -- native and pure agree ----------------------------------------------------------------


def outcome(registered, codec, backend, chunks, max_frame_size):
    """Everything a consumer observes: messages and errors, in order."""
    processor = Processor(registered, codec=codec, backend=backend, max_frame_size=max_frame_size)
    events = []
    for chunk in chunks:
        try:
            processor.push(chunk)
        except FramingError as exc:
            events.append(("push", type(exc).__name__, exc.offset, str(exc)))
            break
        for _ in range(10000):
            try:
                batch = processor.read_messages()
            except FramingError as exc:
                events.append((type(exc).__name__, exc.offset, str(exc)))
                continue
            if not batch:
                break
            events.extend(("message", m.SerializePartialToString(), type(m).__name__)
                          for m in batch)
    events.append(("buffered", processor.buffered))
    return events


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts}) if data else []
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


codec_strategy = st.sampled_from(framing.CODECS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 400), max_size=6),
       codec=codec_strategy, limit=st.sampled_from([0, 3, 40, 4 * 1024 * 1024]))
def test_random_bytes_agree(types, data, cuts, codec, limit):
    registered = [types[1]] if codec != "protobufp" else list(types[:3])
    chunks = split(data, cuts)
    expected = outcome(registered, codec, "native", chunks, limit)
    assert expected == outcome(registered, codec, "pure", chunks, limit)
    with assemble_from(2):
        assert expected == outcome(registered, codec, "native", chunks, limit)
        assert expected == outcome(registered, codec, "pure", chunks, limit)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    mutations=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
    cuts=st.lists(st.integers(0, 10**6), max_size=5),
    codec=codec_strategy,
)
def test_mutated_streams_agree(types, picks, mutations, cuts, codec):
    samples = sample_messages(types)
    if codec != "protobufp":
        registered = [types[2]]
        messages = [types[2](text=str(samples[i]), blob=bytes([i]) * i) for i in picks]
    else:
        registered = list(types)
        messages = [samples[i] for i in picks]
    stream = bytearray(Processor(registered, codec=codec).serializer.serialize_many(messages))
    for position, value in mutations:
        stream[position % len(stream)] = value
    chunks = split(bytes(stream), cuts)
    native = outcome(registered, codec, "native", chunks, 4096)
    assert native == outcome(registered, codec, "pure", chunks, 4096)
    with assemble_from(20):
        assert native == outcome(registered, codec, "native", chunks, 4096)
        assert native == outcome(registered, codec, "pure", chunks, 4096)
    if not mutations:
        assert [e[1] for e in native if e[0] == "message"] == [
            m.SerializeToString() for m in messages]


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.text(max_size=40), max_size=30),
    cuts=st.lists(st.integers(0, 10**5), max_size=8),
    backend=st.sampled_from(BACKENDS),
    codec=codec_strategy,
)
def test_round_trip(types, texts, cuts, backend, codec):
    label = types[2]
    messages = [label(text=t, blob=t.encode()[::-1]) for t in texts]
    processor = Processor([label], codec=codec, backend=backend)
    got = []
    for chunk in split(processor.serializer.serialize_many(messages), cuts):
        processor.push(chunk)
        got.extend(processor)
    assert got == messages


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


# -- memory -----------------------------------------------------------------------------


MEMORY_SCRIPT = r"""
import resource, sys
sys.path.insert(0, sys.argv[3])
from shapes_pb2 import Label
from tightbind.framing import Processor

backend, chunk_size = sys.argv[1], int(sys.argv[2])
processor = Processor([Label], backend=backend)
frame = processor.serializer.serialize(Label(blob=bytes(1024 * 1024 - 64)))
stream = frame * 16
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
pushed = count = 0
baseline = None
while pushed < 1 << 30:
    for start in range(0, len(stream), chunk_size):
        processor.push(stream[start:start + chunk_size])
        count += len(processor.read_messages())
    pushed += len(stream)
    if baseline is None:
        baseline = rss()
print(count, pushed // len(frame), baseline, rss())
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_gib_in_64k_chunks_keeps_memory_flat(protos, backend):
    import subprocess
    import sys

    # The child imports the session fixture's generated module from its directory.
    gen_dir = protos.shapes.__file__.rsplit("/", 1)[0]
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, backend, str(64 * 1024),
                             gen_dir], capture_output=True, text=True, check=True, timeout=300)
    count, expected, baseline, peak = map(int, result.stdout.split())
    assert count == expected >= 1024
    # After the first 16 MiB the peak RSS may not grow by more than a few frames.
    assert peak - baseline < 8 * 1024 * 1024, (baseline, peak)


MANY_SCRIPT = r"""
import resource, sys
sys.path.insert(0, sys.argv[1])
from shapes_pb2 import Point
from tightbind.framing import Processor

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
frame = Processor([Point]).serializer.serialize(Point(x=1))
before = rss()
processors = [Processor([Point], backend="native") for _ in range(20000)]
for processor in processors:
    processor.push(frame)
    assert processor.read_messages() == [Point(x=1)]
print(before, rss())
"""


def test_many_native_processors_share_scan_arrays(protos):
    """One connection, one Processor: 20,000 of them must not hold 20,000 sets of
    scan arrays (about 160 KiB each)."""
    import subprocess
    import sys

    gen_dir = protos.shapes.__file__.rsplit("/", 1)[0]
    result = subprocess.run([sys.executable, "-c", MANY_SCRIPT, gen_dir], capture_output=True,
                            text=True, check=True, timeout=300)
    before, after = map(int, result.stdout.split())
    assert after - before < 200 * 1024 * 1024, (before, after)


# -- threads ----------------------------------------------------------------------------


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


# -- sockets and asyncio over loopback ----------------------------------------------------


def tiny_pieces(data: bytes):
    sizes = itertools.cycle([1, 2, 3, 5, 1, 8])
    pos = 0
    while pos < len(data):
        size = next(sizes)
        yield data[pos:pos + size]
        pos += size


def loopback_pair():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    server, _ = listener.accept()
    listener.close()
    server.settimeout(10)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, server


@pytest.mark.parametrize("codec", framing.CODECS)
def test_socket_helpers_with_tiny_writes(types, backend, codec):
    label = types[2]
    messages = [label(text=f"message {i}", blob=bytes(i)) for i in range(60)]
    client, server = loopback_pair()
    sender = Processor([label], codec=codec)

    def send():
        with client:
            for message in messages[:30]:
                framing.send_message(client, message, sender)
            for piece in tiny_pieces(sender.serializer.serialize_many(messages[30:])):
                client.sendall(piece)

    thread = threading.Thread(target=send)
    thread.start()
    with server:
        got = list(framing.iter_messages(server, Processor([label], codec=codec, backend=backend)))
    thread.join()
    assert got == messages


def test_socket_eof_inside_frame(types, backend):
    point = types[1]
    client, server = loopback_pair()
    frame = Processor([point]).serializer.serialize(point(x=1))
    with client:
        client.sendall(frame + frame[:5])
    with server, pytest.raises(TruncatedStream, match="5 bytes"):
        for _ in framing.iter_messages(server, Processor([point], backend=backend)):
            pass


def test_asyncio_helpers_with_tiny_writes(types, backend):
    label = types[2]
    messages = [label(text="a" * i) for i in range(50)]

    async def main():
        received = []
        done = asyncio.Event()

        async def handle(reader, writer):
            processor = Processor([label], backend=backend)
            async for message in framing.read_messages(reader, processor):
                received.append(message)
            writer.close()
            done.set()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        sender = Processor([label])
        for message in messages[:25]:
            await framing.write_message(writer, message, sender)
        for piece in tiny_pieces(sender.serializer.serialize_many(messages[25:])):
            writer.write(piece)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(done.wait(), 10)
        server.close()
        await server.wait_closed()
        return received

    assert asyncio.run(main()) == messages


def test_asyncio_eof_inside_frame(types):
    point = types[1]

    async def main():
        reader = asyncio.StreamReader()
        reader.feed_data(Processor([point]).serializer.serialize(point(x=1))[:-1])
        reader.feed_eof()
        return [m async for m in framing.read_messages(reader, Processor([point]))]

    with pytest.raises(TruncatedStream):
        asyncio.run(main())
