"""tightbind.framing.scanners: the C scanner and its pure twin agree; hostile headers."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from helpers.budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import child_env
from tightbind.framing import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    PayloadDecodeError,
    Processor,
)
from tightbind.framing.codecs import CODECS, FORMATS
from tightbind.framing.scanners import BATCH, NativeScanner, PureScanner, Stop

codec_strategy = st.sampled_from(CODECS)


def scanner_pair(codec: str, type_count: int, max_payload: int):
    description = FORMATS[codec]
    arguments = (description, min(type_count, description.max_types),
                 min(max_payload, description.max_payload))
    return NativeScanner(*arguments), PureScanner(*arguments)


def found(scanner, buf, start):
    """Everything one scan reports but the types: the Scan, the bounds, the payloads."""
    scan = scanner.scan(buf, start)
    payloads = [bytes(p) for p in scanner.payloads(buf, start, scan)]
    return scan, scanner.bounds(scan), payloads


# -- the two scanners, call by call --------------------------------------------------------


@settings(max_examples=examples(500), deadline=None)
@given(data=st.binary(max_size=200), start=st.integers(0, 220), codec=codec_strategy,
       type_count=st.integers(1, 3), limit=st.sampled_from([0, 3, 40, 1 << 64]),
       mutable=st.booleans())
def test_scans_agree(data, start, codec, type_count, limit, mutable):
    native, pure = scanner_pair(codec, type_count, limit)
    buf = bytearray(data) if mutable else data
    start = min(start, len(buf))
    expected = found(native, buf, start)
    got = found(pure, buf, start)
    assert got == expected
    if type_count > 1 and codec == "protobufp":  # the pure twin lists types only then
        assert pure.types(got[0]) == native.types(expected[0])


@pytest.mark.parametrize("codec", CODECS)
def test_full_batch_stops_both_at_the_same_frame(codec):
    native, pure = scanner_pair(codec, 1, 1 << 20)
    empty = FORMATS[codec].header_writer()(0, 0)  # a frame with an empty payload
    buf = empty * (BATCH + 3)
    for scanner in (native, pure):
        scan = scanner.scan(buf, 0)
        assert (scan.stop, scan.frames, scan.consumed) == (Stop.FULL, BATCH, BATCH * len(empty))
        rest = scanner.scan(buf, scan.consumed)
        assert (rest.stop, rest.frames, rest.consumed) == (Stop.NEED_MORE, 3, len(buf))


@pytest.mark.parametrize("codec", CODECS)
def test_pending_frame_reported_alike(codec):
    """A frame whose header is in but not its payload: both scanners report its size,
    header size and type, which the Processor uses to assemble large frames."""
    native, pure = scanner_pair(codec, 1, 1 << 20)
    header = FORMATS[codec].header_writer()(1000, 0)
    buf = header + bytes(10)
    scans = [scanner.scan(buf, 0) for scanner in (native, pure)]
    assert scans[0] == scans[1]
    assert (scans[0].stop, scans[0].pending_size, scans[0].pending_header) == (
        Stop.NEED_MORE, len(header) + 1000, len(header))


# -- the two scanners, behind a Processor -------------------------------------------------


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


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 400), max_size=6),
       codec=codec_strategy, limit=st.sampled_from([0, 3, 40, 4 * 1024 * 1024]))
def test_random_bytes_agree(types, split, assemble_from, data, cuts, codec, limit):
    registered = [types[1]] if codec != "protobufp" else list(types[:3])
    chunks = split(data, cuts)
    expected = outcome(registered, codec, "native", chunks, limit)
    assert expected == outcome(registered, codec, "pure", chunks, limit)
    with assemble_from(2):
        assert expected == outcome(registered, codec, "native", chunks, limit)
        assert expected == outcome(registered, codec, "pure", chunks, limit)


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    mutations=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
    cuts=st.lists(st.integers(0, 10**6), max_size=5),
    codec=codec_strategy,
)
def test_mutated_streams_agree(types, sample_messages, split, assemble_from, picks,
                               mutations, cuts, codec):
    if codec != "protobufp":
        registered = [types[2]]
        messages = [types[2](text=str(sample_messages[i]), blob=bytes([i]) * i)
                    for i in picks]
    else:
        registered = list(types)
        messages = [sample_messages[i] for i in picks]
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


# -- hostile headers ----------------------------------------------------------------------


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


@pytest.mark.parametrize("codec", CODECS)
def test_every_truncation_of_a_too_large_header_waits(types, backend, codec):
    """Until its last header byte arrives, a hostile header is just an incomplete frame;
    with it, FrameTooLarge at once (no payload byte needed)."""
    header = FORMATS[codec].header_writer()(1 << 20, 0)
    for cut in range(len(header)):
        processor = Processor([types[1]], codec=codec, backend=backend, max_frame_size=1000)
        processor.push(header[:cut])
        assert processor.read_messages() == []
        assert processor.buffered == cut
        processor.push(header[cut:])
        with pytest.raises(FrameTooLarge, match="1048576-byte payload, over max_frame_size"):
            processor.read_messages()


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


# -- the native scanner's arrays ------------------------------------------------------------


MANY_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from shapes_pb2 import Point
from tightbind.framing import Processor

from helpers.rss import peak_kib
frame = Processor([Point]).serializer.serialize(Point(x=1))
before = peak_kib() * 1024
processors = [Processor([Point], backend="native") for _ in range(20000)]
for processor in processors:
    processor.push(frame)
    assert processor.read_messages() == [Point(x=1)]
print(before, peak_kib() * 1024)
"""


def test_many_native_processors_share_scan_arrays(protos):
    """One connection, one Processor: 20,000 of them must not hold 20,000 sets of
    scan arrays (about 160 KiB each)."""
    gen_dir = protos.shapes.__file__.rsplit("/", 1)[0]
    result = subprocess.run([sys.executable, "-c", MANY_SCRIPT, gen_dir], capture_output=True,
                            text=True, check=True, timeout=300, env=child_env())
    before, after = map(int, result.stdout.split())
    assert after - before < 200 * 1024 * 1024, (before, after)
