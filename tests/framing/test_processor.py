"""tightbind.framing.processor: chunking, reading, offsets, state after errors, failed
calls that change nothing, threads."""

from __future__ import annotations

import array
import itertools
import mmap
import struct
import subprocess
import sys
import threading
from typing import Any

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
    """A parser that fails while holding a view of its payload (the pure-Python protobuf
    does: its frames stay in the error's traceback) keeps the buffer exported; the
    pushes after it work all the same, as push never resizes a buffer a read used."""
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
    with pytest.raises(TypeError, match="buffer protocol, not int"):
        Processor(types).push(12)


def buffer_kinds(data: bytes) -> dict[str, Any]:
    """``data`` (of even length) as every kind of buffer push takes: each gives
    ``bytes(view) == data``."""
    np = pytest.importorskip("numpy")
    assert len(data) % 2 == 0
    strided = bytearray(2 * len(data))
    strided[::2] = data
    grid = np.frombuffer(data, dtype=np.uint8).reshape(2, -1)
    wide = np.zeros((2, 2 * grid.shape[1]), dtype=np.uint8)
    wide[:, ::2] = grid
    return {
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(bytearray(data)),
        "strided memoryview": memoryview(strided)[::2],
        "2-D C memoryview": memoryview(data).cast("B", [2, len(data) // 2]),
        "2-D Fortran memoryview": memoryview(np.asfortranarray(grid)),
        "2-D strided memoryview": memoryview(wide[:, ::2]),
        "big-endian items": memoryview(np.frombuffer(data, dtype=">u2")),
        "array.array": array.array("B", data),
        "numpy array": np.frombuffer(data, dtype=np.uint8).copy(),
    }


KINDS = ["bytes", "bytearray", "memoryview", "strided memoryview", "2-D C memoryview",
         "2-D Fortran memoryview", "2-D strided memoryview", "big-endian items", "array.array",
         "numpy array"]


@pytest.mark.parametrize("buffered", [0, 5])
@pytest.mark.parametrize("kind", KINDS)
def test_push_takes_every_buffer_shape(types, backend, kind, buffered):
    label = types[2]
    messages = [label(text="k" * n) for n in range(1, 9)]
    stream = Processor([label]).serializer.serialize_many(messages)
    stream += bytes(len(stream) % 2)  # even, for the 2-D shapes; a 0 byte starts a frame
    processor = Processor([label], backend=backend)
    processor.push(stream[:buffered])
    chunk = buffer_kinds(stream[buffered:] + bytes(buffered % 2))[kind]
    assert bytes(memoryview(chunk)) == stream[buffered:] + bytes(buffered % 2)
    processor.push(chunk)
    shared = pytest.importorskip("numpy").asarray(memoryview(chunk))
    if shared.flags.writeable:
        shared[...] = 0xFF  # the Processor must have copied a mutable chunk
    assert processor.read_messages() == messages


def test_push_of_a_released_view_or_closed_mmap_changes_nothing(types, backend):
    label = types[2]
    stream = Processor([label]).serializer.serialize_many([label(text="a"), label(text="b")])
    processor = Processor([label], backend=backend)
    processor.push(stream[:3])
    released = memoryview(bytearray(stream[3:]))
    released.release()
    closed = mmap.mmap(-1, 16)
    closed.close()
    for chunk in (released, closed):
        with pytest.raises(ValueError):
            processor.push(chunk)
    processor.push(stream[3:])
    assert processor.read_messages() == [label(text="a"), label(text="b")]


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


@pytest.mark.slow
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


# -- a failed call changes nothing --------------------------------------------------------
# Every public method either succeeds or leaves the Processor exactly as it was.  Each
# case below puts a Processor in one state, makes one call with allocation number n made
# to fail (CPython's _testcapi.set_nomemory) for every n the call reaches, and checks that
# a call that raised left every field as it was and that the stream then reads on exactly
# as it does without failures.


def processor_state(processor: Processor) -> tuple:
    """Every field of a Processor that a call may change."""
    return (type(processor._buf), bytes(processor._buf), processor._pos, processor._base,
            list(processor._ready), processor._error, processor._poisoned,
            processor._pending, [bytes(part) for part in processor._parts],
            processor._parts_size)


def read_all(processor: Processor) -> list:
    """The messages and errors (by class name) reads return until none is left."""
    events: list = []
    for _ in range(100):
        try:
            batch = processor.read_messages()
        except FramingError as exc:
            events.append(type(exc).__name__)
            if isinstance(exc, (FrameTooLarge, CorruptLength)):
                break
            continue
        if not batch:
            break
        events.extend(batch)
    return events


def atomic_states(types):
    """name -> (message types, stream, set-up): each set-up pushes a prefix of the stream
    and reads, and returns how many bytes of the stream it pushed."""
    label, point = types[2], types[1]
    serializer = Processor([label, point]).serializer
    frames = [serializer.serialize(m) for m in
              (label(text="one"), point(x=2), label(blob=b"3" * 40), point(y=4), label())]
    good = b"".join(frames)
    first = len(frames[0])
    bad_payload = struct.pack(">II", 4 + 3, 0) + b"\xff\xff\xff"
    too_large = struct.pack(">II", 4 + (1 << 20), 0)

    def pushing(stream: bytes, cut: int, reads: int = 1, kind: type = bytes,
                read: str = "read_messages"):
        def set_up(processor: Processor) -> int:
            processor.push(kind(stream[:cut]))
            for _ in range(reads):
                try:
                    getattr(processor, read)()
                except FramingError:
                    pass
            return cut
        return stream, set_up

    return {
        "fresh": pushing(good, 0, reads=0),
        "partial frame": pushing(good, 7),
        "bytes buffer after a read": pushing(good, first + 7),
        "bytearray buffer after a read": pushing(good, first + 7, kind=bytearray),
        "messages ready": pushing(good, len(good) - 9, read="read_message"),
        "assembling a frame": pushing(good, first + 30),  # with the threshold at 1 byte
        "payload error pending": pushing(frames[0] + bad_payload + good, first + 12),
        "poisoned": pushing(frames[0] + too_large + good, first + 9, reads=2),
    }


STATES = ["fresh", "partial frame", "bytes buffer after a read",
          "bytearray buffer after a read", "messages ready", "assembling a frame",
          "payload error pending", "poisoned"]
CALLS = ["push bytes", "push bytearray", "push strided memoryview",
         "push 2-D Fortran memoryview", "read_message", "read_messages", "reset"]


def make_call(call: str, rest: bytes):
    """A function that makes ``call`` on a Processor, and one that makes its argument
    (made before the failures start, so only the call itself meets them)."""
    if not call.startswith("push"):
        return (lambda processor, _argument: getattr(processor, call)()), lambda: None
    kind = call[len("push "):]
    data = rest + bytes(len(rest) % 2)  # even, for the 2-D shapes; a 0 byte never ends one
    return (lambda processor, chunk: processor.push(chunk)), lambda: buffer_kinds(data)[kind]


# CPython may report a MemoryError of its own (in a destructor) as "unraisable".
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("state", STATES)
def test_a_call_that_fails_at_any_allocation_changes_nothing(types, backend, assemble_from,
                                                             state, call):
    testcapi = pytest.importorskip("_testcapi")
    label, point = types[2], types[1]
    stream, set_up = atomic_states(types)[state]
    with assemble_from(1 if state == "assembling a frame" else None):
        reference = Processor([label, point], backend=backend)
        cut = set_up(reference)
        rest = stream[cut:]
        act, argument = make_call(call, rest)
        try:
            act(reference, argument())
        except FramingError:
            pass
        if not call.startswith("push"):
            reference.push(rest)
        expected = read_all(reference)

        failed = quiet = 0
        n = 0
        while quiet < 40 and n < 2000:
            processor = Processor([label, point], backend=backend)
            set_up(processor)
            before = processor_state(processor)
            chunk = argument()
            # A tracer (coverage's) allocates on every line and would fail in the
            # Processor's frame on lines that allocate nothing themselves.
            tracer = sys.gettrace()
            sys.settrace(None)
            # Process-wide: any other thread allocating now meets the failures too, so no
            # fixture may leave a busy thread running (see dask_cluster in conftest.py).
            testcapi.set_nomemory(n, n + 1)
            try:
                act(processor, chunk)
                raised: BaseException | None = None
            except FramingError:
                raised = None  # the stream's own error: a success, not a failed call
            except BaseException as exc:  # whatever the failure became
                raised = exc
            finally:
                testcapi.remove_mem_hooks()
                sys.settrace(tracer)
            if raised is not None:
                failed += 1
                quiet = 0
                after = processor_state(processor)
                if before[5] is not None and after[5] is None and not processor._poisoned:
                    # The call was raising the stream's pending error and CPython failed
                    # making its traceback (3.11 then drops it for a MemoryError or a
                    # SystemError): delivered as far as the Processor can tell.
                    assert after[:5] + after[6:] == before[:5] + before[6:], n
                    n += 1
                    read_all(processor)
                    continue
                assert after == before, (n, repr(raised))
                try:
                    act(processor, chunk)  # the same call again, without failures
                except FramingError:
                    pass
            else:
                quiet += 1
            if not call.startswith("push"):
                processor.push(rest)
            assert read_all(processor) == expected, (n, raised)
            n += 1
    assert failed or call in ("reset", "push bytes") or state == "poisoned", \
        "no allocation failure reached the call"
