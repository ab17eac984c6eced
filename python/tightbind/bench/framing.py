"""``tightbind bench framing``: messages/s of the frame parser against its ceiling.

For each payload size the same stream is decoded by every path, interleaved in rounds
(medians reported; the one-block and the chunked paths as two groups), so the ratios
come from one run on one machine:

- parse-only: upb ``FromString`` over payloads split in advance; no framing at all, the
  ceiling for any framing layer written in Python.  It is measured twice, like the
  Processors: keeping every message (as one block does) and per 64 KiB chunk (the
  messages each chunk completes, dropped before the next), because how many messages
  are alive at once changes what Python's garbage collector costs;
- native and pure Processors, the stream pushed as one block and as 64 KiB chunks;
- readers of other packages passed in by the caller (the repository's ``bench/framing.py``
  adds protobufp 0.2.4's read path), in 64 KiB chunks, on the 15-byte table;
- for 1 MiB payloads, a memmove of the whole stream into a preallocated buffer: the
  machine's copy bandwidth (a Python framing layer must copy each payload once, since
  upb parses only whole ``bytes`` objects without copying).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tightbind.bench._report import Table, interleaved
from tightbind.framing import Processor

CHUNK = 64 * 1024

# Another package's reader, for a row of its own: (label for the summary, a function of
# (message type, the 64 KiB chunks, the message count) returning the call to time).
Peer = tuple[str, Callable[[Any, list[bytes], int], Callable[[], Any]]]


def message_types() -> tuple[Any, Any]:
    """TestMsg (protobufp's own test message, proto2) and Blob (one bytes field), built
    at run time so the benchmark needs no protoc."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fields = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="tightbind_bench.proto",
                                               package="tightbind_bench", syntax="proto2")
    test_msg = proto.message_type.add(name="TestMsg")
    for number, (name, kind) in enumerate(
        [("left", fields.TYPE_UINT32), ("center", fields.TYPE_STRING),
         ("right", fields.TYPE_UINT32)], start=1):
        test_msg.field.add(name=name, number=number, type=kind, label=fields.LABEL_REQUIRED)
    blob = proto.message_type.add(name="Blob")
    blob.field.add(name="data", number=1, type=fields.TYPE_BYTES, label=fields.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    # GetMessageClass is protobuf 4.22's; 4.21 (the floor) has only GetPrototype.
    get_class = getattr(message_factory, "GetMessageClass", None)
    if get_class is None:
        get_class = message_factory.MessageFactory(pool).GetPrototype
    return (
        get_class(pool.FindMessageTypeByName("tightbind_bench.TestMsg")),
        get_class(pool.FindMessageTypeByName("tightbind_bench.Blob")),
    )


def _contenders(message_type: Any, messages: list[Any], peers: dict[str, Peer],
                with_memcpy: bool) -> tuple[dict[str, Callable[[], Any]], int]:
    serializer = Processor([message_type]).serializer
    frames = [serializer.serialize(m) for m in messages]
    stream = b"".join(frames)
    chunks = [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]
    payloads = [frame[8:] for frame in frames]
    # The payloads each chunk completes, for the per-chunk parse-only ceiling.
    per_chunk: list[list[bytes]] = [[] for _ in chunks]
    end = 0
    for frame, payload in zip(frames, payloads, strict=True):
        end += len(frame)
        per_chunk[(end - 1) // CHUNK].append(payload)
    count = len(messages)
    parse = message_type.FromString

    def parse_all() -> None:
        assert len(list(map(parse, payloads))) == count

    def parse_chunks() -> None:
        got = 0
        for group in per_chunk:
            got += len(list(map(parse, group)))
        assert got == count

    def processor_block(backend: str) -> Callable[[], None]:
        def run() -> None:
            processor = Processor([message_type], backend=backend)
            processor.push(stream)
            assert len(processor.read_messages()) == count
        return run

    def processor_chunks(backend: str) -> Callable[[], None]:
        def run() -> None:
            processor = Processor([message_type], backend=backend)
            got = 0
            for chunk in chunks:
                processor.push(chunk)
                got += len(processor.read_messages())
            assert got == count
        return run

    source = bytearray(stream)
    target = bytearray(len(stream))

    def memcpy() -> None:
        target[:] = source

    contenders: dict[str, Callable[[], Any]] = {}
    if with_memcpy:
        contenders[MEMCPY] = memcpy
    contenders.update({
        "parse-only, one block": parse_all,
        "native, one block": processor_block("native"),
        "pure, one block": processor_block("pure"),
        "parse-only, 64 KiB chunks": parse_chunks,
        "native, 64 KiB chunks": processor_chunks("native"),
        "pure, 64 KiB chunks": processor_chunks("pure"),
    })
    for name, (_, make) in peers.items():
        contenders[name] = make(message_type, chunks, count)
    return contenders, len(stream)


MEMCPY = "memmove of the stream (bandwidth)"


def _table(title: str, message_type: Any, messages: list[Any], *, rounds: int,
           peers: dict[str, Peer], with_memcpy: bool) -> Table:
    contenders, stream_size = _contenders(message_type, messages, peers, with_memcpy)
    # Each way of feeding is timed as its own interleaved group, chunked first: the
    # one-block paths keep every message alive at once, and the heap they leave behind
    # (hundreds of thousands of objects allocated and freed) slows the chunked paths'
    # allocations unevenly (native/parse-only 0.74x after them, 0.88x before them, in
    # one test; the one-block ratios did not move).
    seconds: dict[str, float] = {}
    for group in (True, False):
        seconds.update(interleaved(
            {name: run for name, run in contenders.items() if ("chunks" in name) == group},
            rounds=rounds))
    count = len(messages)
    table = Table(title, ["path", "msgs/s", "MB/s", "x parse-only", "native x this"])
    for name in contenders:
        elapsed = seconds[name]
        mode = "64 KiB chunks" if "chunks" in name else "one block"
        native = seconds[f"native, {mode}"]
        ceiling = seconds[f"parse-only, {mode}"]
        table.rows.append([
            name,
            "" if name == MEMCPY else count / elapsed,
            stream_size / elapsed / 1e6,
            "" if name == MEMCPY else f"{ceiling / elapsed:.2f}",
            "" if name.startswith("native") else f"{elapsed / native:.2f}",
        ])
    table.notes.append(
        f"{count:,} messages, {stream_size:,}-byte stream; median of {rounds} interleaved "
        "rounds, chunked and then one-block paths timed as separate groups.")
    table.notes.append(
        "x parse-only: speed over parse-only fed the same way (one block, or chunks); "
        "native x this: native's speed over this path's (for memmove: one block).")
    size = title.split(": ", 1)[1].split(" (")[0]
    for mode in ("one block", "64 KiB chunks"):
        native = seconds[f"native, {mode}"]
        rate = f"{count / native:,.0f} msgs/s"
        table.headlines.append([f"{size}, {mode}: native vs parse-only", rate,
                                "parse-only", f"{seconds[f'parse-only, {mode}'] / native:.2f}x"])
        table.headlines.append([f"{size}, {mode}: native vs pure", rate, "pure",
                                f"{seconds[f'pure, {mode}'] / native:.2f}x"])
    for name, (label, _) in peers.items():
        native = seconds["native, 64 KiB chunks"]
        table.headlines.append([f"{size}, 64 KiB chunks: native vs {label}",
                                f"{count / native:,.0f} msgs/s", label,
                                f"{seconds[name] / native:.2f}x"])
    if MEMCPY in seconds:
        native = seconds["native, one block"]
        table.headlines.append([f"{size}, one block: native vs memmove",
                                f"{stream_size / native / 1e9:.2f} GB/s", "memmove",
                                f"{seconds[MEMCPY] / native:.2f}x"])
    return table


def versions() -> dict[str, str]:
    from google.protobuf import __version__ as protobuf_version
    from google.protobuf.internal import api_implementation

    return {"protobuf": f"{protobuf_version} ({api_implementation.Type()})"}


def run(quick: bool = False, peers: dict[str, Peer] | None = None) -> list[Table]:
    """The two framing tables; ``peers`` (row name -> :data:`Peer`) join the 15-byte
    table, fed in 64 KiB chunks."""
    test_msg, blob = message_types()
    rng = random.Random(1)
    small_count = 20_000 if quick else 200_000
    small = [test_msg(left=rng.randint(11111111, 99999999), center="abc",
                      right=rng.randint(11111111, 99999999)) for _ in range(small_count)]
    assert len(small[0].SerializeToString()) == 15
    big_count = 8 if quick else 48
    big = [blob(data=rng.randbytes(1 << 20)) for _ in range(big_count)]
    rounds = 3 if quick else 7
    return [
        _table("framing: 15-byte payloads (protobufp codec)", test_msg, small, rounds=rounds,
               peers=peers or {}, with_memcpy=False),
        _table("framing: 1 MiB payloads (protobufp codec)", blob, big, rounds=rounds,
               peers={}, with_memcpy=True),
    ]
