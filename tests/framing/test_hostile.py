"""The standing hostile-input suite for tightbind.framing: every public entry point, in a
child under a hard time and memory limit (``helpers.limits.run_limited``), fed valid
streams of every codec truncated at every point, mutated at random, chunked at random,
headers claiming sizes up to what the codec can express, and payloads nested past
protobuf's depth limit.  Each must answer with messages or a FramingError (never another
exception, a crash, a hang, or memory for a size a header merely claims), and the native
and pure backends must give the same messages and errors at the same offsets.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers.limits import run_limited

CHILD = """
import asyncio, json, random, socket, struct, threading
from google.protobuf import struct_pb2, wrappers_pb2
from helpers.hostile import Tally, mutations, truncations
from tightbind import framing
from tightbind.framing import FramingError, Processor
from tightbind.framing.codecs import CODECS, FORMATS, encode_varint

ALLOWED = (FramingError,)
tally = Tally()
disagreements = []
stream_errors = {{}}  # what the streams themselves raised, by class (for the report)
rng = random.Random(8)

def types_for(codec):
    if codec == "protobufp":
        return [wrappers_pb2.StringValue, wrappers_pb2.Int64Value, struct_pb2.Struct]
    return [struct_pb2.Struct]

def sample(codec):
    nested = struct_pb2.Struct()
    nested.update({{"a": [1, "two", {{"b": None}}], "c": {{"d": True}}}})
    messages = [nested, struct_pb2.Struct(), nested]
    if codec == "protobufp":
        messages += [wrappers_pb2.StringValue(value="x" * 300), wrappers_pb2.Int64Value(value=-1)]
    return Processor(types_for(codec), codec=codec).serializer.serialize_many(messages)

def header(codec, length, type_id=0):
    return FORMATS[codec].header_writer()(length, type_id)

def deep(depth):
    # A Struct nested `depth` levels: Struct{{fields: {{"k": Value{{struct_value: ...}}}}}}
    payload = b""
    for _ in range(depth):
        value = b"\\x2a" + encode_varint(len(payload)) + payload          # struct_value
        entry = b"\\x0a\\x01k" + b"\\x12" + encode_varint(len(value)) + value
        payload = b"\\x0a" + encode_varint(len(entry)) + entry
    return payload

def claims(codec):
    biggest = FORMATS[codec].max_payload
    sizes = [0, 1, 4 * 1024 * 1024 - 1, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1,
             (1 << 31) - 1, (1 << 31), (1 << 32) - 1 - FORMATS[codec].length_bias]
    out = [header(codec, min(s, biggest)) + b"\\x08" for s in sizes]
    if codec == "varint":
        out += [b"\\xff" * 9 + b"\\x01", b"\\xff" * 10 + b"\\x01", b"\\x80" * 11,
                b"\\xff" * 9 + b"\\x7f"]
    if codec == "protobufp":
        out += [struct.pack(">II", 0, 0), struct.pack(">II", 3, 0),
                struct.pack(">II", 4, 0xFFFFFFFF), struct.pack(">II", 5, 3) + b"\\x00"]
    if codec == "grpc":
        out += [b"\\x01" + struct.pack(">I", 1) + b"\\x00", b"\\xff" + struct.pack(">I", 0)]
    out += [header(codec, len(deep(d))) + deep(d) for d in (50, 99, 101, 1000, 5000)]
    return out

def events(processor, data, chunks, iterate):
    got = []
    pos = 0
    for size in chunks:
        piece = data[pos:pos + size]
        pos += size
        try:
            processor.push(piece)
        except FramingError as exc:
            got.append((type(exc).__name__, getattr(exc, "offset", None)))
            return got
        for _ in range(1000):
            try:
                batch = list(processor) if iterate else processor.read_messages()
            except FramingError as exc:
                got.append((type(exc).__name__, getattr(exc, "offset", None)))
                if exc.__class__.__name__ in ("FrameTooLarge", "CorruptLength"):
                    return got
                continue
            if not batch:
                break
            got.extend((type(m).__name__, m.SerializeToString(deterministic=True))
                       for m in batch)
    got.append(("buffered", processor.buffered))
    return got

def check(codec, data, label, max_frame_size=4 * 1024 * 1024):
    chunks, left = [], len(data)
    while left > 0:
        size = rng.choice((1, 2, 3, 7, 64, 4096, left))
        chunks.append(min(size, left))
        left -= size
    chunks = chunks or [0]
    iterate = rng.random() < 0.3
    results = {{}}
    for backend in ("native", "pure"):
        def run():
            processor = Processor(types_for(codec), codec=codec, backend=backend,
                                  max_frame_size=max_frame_size)
            results[backend] = events(processor, data, chunks, iterate)
        tally.run(f"{{codec}} {{label}} {{backend}}", data, run, ALLOWED)
    for event in results.get("native", []):
        if event[0].endswith(("Error", "Large", "Length", "Type", "Stream")):
            stream_errors[event[0]] = stream_errors.get(event[0], 0) + 1
    if len(results) == 2 and results["native"] != results["pure"] and len(disagreements) < 10:
        disagreements.append([codec, label, data[:200].hex(), repr(results)[:600]])

def socket_events(codec, data):
    left, right = socket.socketpair()
    def send():
        with left:
            left.sendall(data)
    thread = threading.Thread(target=send)
    thread.start()
    with right:
        right.settimeout(10)
        processor = Processor(types_for(codec), codec=codec)
        list(framing.iter_messages(right, processor, chunk_size=rng.choice((1, 7, 4096))))
    thread.join()

async def stream_events(codec, data):
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    processor = Processor(types_for(codec), codec=codec)
    async for _ in framing.read_messages(reader, processor, chunk_size=5):
        pass

for codec in CODECS:
    stream = sample(codec)
    for data in truncations(stream, every_up_to=1024):
        check(codec, data, "truncated")
    for data in mutations(stream, count={mutations}):
        check(codec, data, "mutated")
    for data in claims(codec):
        check(codec, data, "claim")
        check(codec, data, "claim, widest limit", max_frame_size=FORMATS[codec].max_payload
              if FORMATS[codec].max_payload < 1 << 32 else (1 << 32) - 1)
        check(codec, stream + data + stream, "claim mid-stream")
    for data in [*list(truncations(stream, samples=20)), *mutations(stream, count=20, seed=9)]:
        tally.run(f"{{codec}} iter_messages", data, lambda: socket_events(codec, data), ALLOWED)
        tally.run(f"{{codec}} read_messages", data,
                  lambda: asyncio.run(stream_events(codec, data)), ALLOWED)

print(json.dumps({{**json.loads(tally.report()), "disagreements": disagreements,
                  "stream_errors": stream_errors}}))
"""


@pytest.mark.parametrize("mutations", [pytest.param(60, id="quick"),
                                       pytest.param(600, id="long", marks=pytest.mark.slow)])
def test_hostile_streams_give_framing_errors_and_both_backends_agree(mutations: int) -> None:
    result = run_limited(CHILD.format(mutations=mutations), seconds=300, memory_mib=512)
    assert not result.timed_out, f"hung: {result.stderr[-2000:]}"
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["cases"] > 1000, report
    assert set(report["stream_errors"]) >= {"FrameTooLarge", "CorruptLength",
                                            "PayloadDecodeError", "UnknownMessageType"}
    assert not report["unexpected"], json.dumps(report["unexpected"][:5], indent=1)
    assert not report["disagreements"], json.dumps(report["disagreements"][:3], indent=1)
    assert result.peak_mib < 300, result.peak_mib


def test_the_child_sees_the_families() -> None:
    # The suite's own check: the child builds every family without error on its own.
    code = CHILD.format(mutations=1).split("for codec in CODECS:")[0] + textwrap.dedent("""
        for codec in CODECS:
            assert len(claims(codec)) >= 13 and sample(codec)
        print("ok")
    """)
    result = run_limited(code, seconds=60)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]
