"""``tightbind bench framing``: messages/s of the frame parser against its ceiling.

For each payload size the same stream is decoded by every path, interleaved in rounds
(medians reported), so the ratios come from one run on one machine:

- parse-only: upb ``FromString`` over payloads split in advance; no framing at all, the
  ceiling for any framing layer written in Python;
- native and pure Processors, the stream pushed as one block and as 64 KiB chunks;
- the read path of protobufp 0.2.4 (see ``_protobufp024``), in 64 KiB chunks;
- for 1 MiB payloads, a plain memory copy of the stream, the bandwidth limit.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tightbind.benchmarks import _protobufp024
from tightbind.benchmarks._report import Table, interleaved
from tightbind.framing import Processor

CHUNK = 64 * 1024


def message_types() -> tuple[type, type]:
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
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("tightbind_bench.TestMsg")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("tightbind_bench.Blob")),
    )


def _contenders(message_type: type, messages: list[Any], with_original: bool,
                with_memcpy: bool) -> tuple[dict[str, Callable[[], Any]], int]:
    serializer = Processor([message_type]).serializer
    frames = [serializer.serialize(m) for m in messages]
    stream = b"".join(frames)
    chunks = [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]
    payloads = [frame[8:] for frame in frames]
    count = len(messages)
    parse = message_type.FromString

    def parse_only() -> None:
        assert len(list(map(parse, payloads))) == count

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

    def original_chunks() -> None:
        processor = _protobufp024.Processor([message_type])
        got = 0
        for chunk in chunks:
            processor.push(chunk)
            while processor.read_message() is not None:
                got += 1
        assert got == count

    source = bytearray(stream)

    def memcpy() -> None:
        bytes(source)

    contenders = {"parse-only (upb FromString, pre-split)": parse_only}
    if with_memcpy:
        contenders["memory copy of the stream"] = memcpy
    contenders.update({
        "native, one block": processor_block("native"),
        "native, 64 KiB chunks": processor_chunks("native"),
        "pure, one block": processor_block("pure"),
        "pure, 64 KiB chunks": processor_chunks("pure"),
    })
    if with_original:
        contenders["protobufp 0.2.4 read path, 64 KiB chunks"] = original_chunks
    return contenders, len(stream)


def _table(title: str, message_type: type, messages: list[Any], *, rounds: int,
           with_original: bool, with_memcpy: bool) -> Table:
    contenders, stream_size = _contenders(message_type, messages, with_original, with_memcpy)
    seconds = interleaved(contenders, rounds=rounds)
    count = len(messages)
    ceiling = seconds["parse-only (upb FromString, pre-split)"]
    native = {"one block": seconds["native, one block"],
              "64 KiB chunks": seconds["native, 64 KiB chunks"]}
    original = seconds.get("protobufp 0.2.4 read path, 64 KiB chunks")
    table = Table(title, ["path", "msgs/s", "MB/s", "x parse-only", "native x this"])
    for name, elapsed in seconds.items():
        if name.startswith("native"):
            vs = ""
        else:
            reference = native["64 KiB chunks" if "chunks" in name else "one block"]
            vs = f"{elapsed / reference:.2f}"
        rate = "" if name.startswith("memory") else count / elapsed
        table.rows.append([name, rate, stream_size / elapsed / 1e6,
                           f"{ceiling / elapsed:.2f}", vs])
    table.notes.append(
        f"{count:,} messages, {stream_size:,}-byte stream; median of {rounds} interleaved "
        "rounds. 'native x this': native's speed over this path's on the same input "
        "(one block or chunks).")
    if original is not None:
        table.notes.append(
            f"native, 64 KiB chunks vs protobufp 0.2.4: {original / native['64 KiB chunks']:.1f}x")
    return table


def run(quick: bool = False) -> list[Table]:
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
               with_original=True, with_memcpy=False),
        _table("framing: 1 MiB payloads (protobufp codec)", blob, big, rounds=rounds,
               with_original=False, with_memcpy=True),
    ]
