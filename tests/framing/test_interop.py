"""Interop with real peers: C++ and Java protobuf, and a grpcio server.

The C++ peer (``peers/peer.cc``, Debian's libprotobuf) and the Java peer
(``peers/Peer.java``, Debian's protobuf-java) are compiled per session into temporary
folders (a few seconds each).  They turn text-format messages, one per line, into a
varint-delimited stream (``SerializeDelimitedToOstream``, ``writeDelimitedTo``) and a
stream back into text (``ParseDelimitedFromZeroCopyStream``, ``parseDelimitedFrom``), so
the messages cross as text, independently of any binary encoder, and are compared field
by field.  tightbind reads the peers' streams in random chunks with both backends, and
the peers read tightbind's.

For gRPC, a grpcio client talks to a grpcio server on 127.0.0.1 through a relay that
records the HTTP/2 DATA frames (all three in a child process, ``peers/grpc_echo.py``):
the raw gRPC message bodies, which tightbind's ``grpc`` codec must decode, frame by frame
as they arrived and in random chunks, and must write byte for byte.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import pickle
import random
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tightbind.framing import Processor, UnknownMessageType

pytestmark = pytest.mark.slow

PEERS_DIR = Path(__file__).parent / "peers"
PROTOS_DIR = Path(__file__).parent.parent / "protos"
PROTOBUF_JAR = Path("/usr/share/java/protobuf.jar")
BACKENDS = ["native", "pure"]
MESSAGES = 2500  # per peer and direction
GRPC_MESSAGES = 1500
PEER_TIMEOUT = 300  # seconds for one peer command


# -- the messages ---------------------------------------------------------------------------


def float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def make_text(rng: random.Random, length: int) -> str:
    """Text from ASCII (controls included), Latin-1, CJK and astral planes."""
    ranges = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0xFF), (0x4E00, 0x4FFF), (0x1F300, 0x1F5FF)]
    out = []
    for _ in range(length):
        low, high = ranges[min(int(rng.expovariate(1.2)), len(ranges) - 1)]
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


def make_inner(interop, rng: random.Random, depth: int = 0):
    inner = interop.Inner(name=make_text(rng, rng.randint(0, 12)),
                          values=[rng.randint(-(1 << 63), (1 << 63) - 1)
                                  for _ in range(rng.randint(0, 6))])
    if depth < 3 and rng.random() < 0.3:
        inner.child.CopyFrom(make_inner(interop, rng, depth + 1))
    return inner


def make_sample(interop, rng: random.Random, size: str):
    """One Sample: each field set or not at random, values across their whole range."""

    def pick(*choices):
        return rng.choice(choices)

    sample = interop.Sample()
    if size == "empty":
        return sample
    bits = {"i32": 31, "i64": 63, "s32": 31, "s64": 63, "sf32": 31, "sf64": 63}
    for name, width in bits.items():
        if rng.random() < 0.5:
            setattr(sample, name, pick(0, 1, -1, (1 << width) - 1, -(1 << width),
                                       rng.randint(-(1 << width), (1 << width) - 1)))
    for name, width in {"u32": 32, "u64": 64, "f32": 32, "f64": 64}.items():
        if rng.random() < 0.5:
            setattr(sample, name, pick(0, 1, (1 << width) - 1, rng.randint(0, (1 << width) - 1)))
    if rng.random() < 0.5:
        # The largest float but one: FLT_MAX prints as 3.4028235e+38 (its shortest form),
        # which the pure-Python protobuf's text parser turns into inf.
        sample.fl = float32(pick(0.0, -0.0, 1.5, 3.4028232635611926e38, 1.401298464324817e-45,
                                 math.inf, -math.inf, rng.uniform(-1e6, 1e6)))
    if rng.random() < 0.5:
        sample.db = pick(0.0, -0.0, 5e-324, 1.7976931348623157e308, math.inf, -math.inf,
                         rng.uniform(-1e300, 1e300), rng.random())
    sample.flag = rng.random() < 0.5
    sample.color = rng.randrange(4)
    long = size == "large"
    sample.text = make_text(rng, rng.randint(0, 4000 if size == "medium" else 40))
    sample.blob = rng.randbytes(rng.randint(300_000, 1_100_000) if long
                                else rng.randint(0, 20_000 if size == "medium" else 60))
    if rng.random() < 0.4:
        sample.inner.CopyFrom(make_inner(interop, rng))
    sample.packed.extend(rng.randint(-(1 << 31), (1 << 31) - 1)
                         for _ in range(rng.choice([0, 0, 1, 5, 50])))
    sample.words.extend(make_text(rng, rng.randint(0, 8)) for _ in range(rng.randint(0, 4)))
    sample.inners.extend(make_inner(interop, rng) for _ in range(rng.choice([0, 0, 1, 3])))
    for _ in range(rng.choice([0, 0, 1, 4])):
        sample.counts[make_text(rng, rng.randint(0, 6))] = rng.randint(-(1 << 63), (1 << 63) - 1)
    for _ in range(rng.choice([0, 0, 1, 3])):
        sample.by_id[rng.randint(-(1 << 31), (1 << 31) - 1)].CopyFrom(make_inner(interop, rng))
    choice = rng.randrange(4)
    if choice == 1:
        sample.choice_text = make_text(rng, rng.randint(0, 10))
    elif choice == 2:
        sample.choice_number = rng.randint(-(1 << 63), (1 << 63) - 1)
    elif choice == 3:
        sample.choice_inner.CopyFrom(make_inner(interop, rng))
    if rng.random() < 0.5:
        sample.maybe = pick(0, rng.randint(-(1 << 31), (1 << 31) - 1))  # 0 is present too
    sample.doubles.extend(rng.uniform(-1e10, 1e10) for _ in range(rng.choice([0, 0, 2, 20])))
    return sample


def make_samples(interop, seed: int, count: int, large: int) -> list:
    """``count`` Samples: a few empty, most small, some medium (KiBs), ``large`` of
    300 KiB to 1.1 MiB (past the Processor's assembly threshold), shuffled."""
    rng = random.Random(seed)
    sizes = ["large"] * large + ["empty"] * (count // 50)
    sizes += ["medium"] * (count // 8)
    sizes += ["small"] * (count - len(sizes))
    rng.shuffle(sizes)
    return [make_sample(interop, rng, size) for size in sizes]


@pytest.fixture(scope="module")
def interop(protos):
    return protos.interop


@pytest.fixture(scope="module")
def samples(interop) -> list:
    return make_samples(interop, seed=12, count=MESSAGES, large=3)


def differences(got, expected) -> list[str]:
    """The fields in which two Samples differ, presence of optional and oneof included."""
    found = [f"{field.name}: {getattr(got, field.name)!r:.60} != "
             f"{getattr(expected, field.name)!r:.60}"
             for field in expected.DESCRIPTOR.fields
             if getattr(got, field.name) != getattr(expected, field.name)]
    if got.WhichOneof("choice") != expected.WhichOneof("choice"):
        found.append(f"choice: {got.WhichOneof('choice')} != {expected.WhichOneof('choice')}")
    if got.HasField("maybe") != expected.HasField("maybe"):
        found.append("maybe: presence differs")
    return found


def assert_same_messages(got: list, expected: list, where: str) -> None:
    assert len(got) == len(expected), f"{where}: {len(got)} messages, {len(expected)} sent"
    pairs = enumerate(zip(got, expected, strict=True))
    wrong = [(index, differences(a, b)) for index, (a, b) in pairs if a != b]
    assert not wrong, f"{where}: {len(wrong)} messages differ, first: {wrong[:3]}"


# -- reading in random chunks ---------------------------------------------------------------


def random_chunks(data: bytes, rng: random.Random) -> Iterator[bytes | bytearray | memoryview]:
    """``data`` cut into chunks of 1 byte to 256 KiB (many tiny ones), pushed as bytes,
    bytearray and memoryview in turn."""
    kinds = itertools.cycle([bytes, bytearray, memoryview])
    position = 0
    while position < len(data):
        limit = rng.choice([8, 64, 1500, 65536, 262144])
        size = rng.randint(1, limit)
        yield next(kinds)(data[position:position + size])
        position += size


def read_all(message_type, codec: str, backend: str, chunks) -> list:
    processor = Processor(message_type, codec=codec, backend=backend)
    got = []
    for chunk in chunks:
        processor.push(chunk)
        got.extend(processor.read_messages())
    assert processor.buffered == 0
    return got


# -- the C++ and Java peers -----------------------------------------------------------------


def require(*commands: str) -> None:
    missing = [command for command in commands if shutil.which(command) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/_setup.sh installs "
                    "protobuf-compiler libprotobuf-dev g++ libprotobuf-java "
                    "default-jdk-headless)")


def build(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def cpp_peer(tmp_path_factory) -> list[str]:
    require("protoc", "g++", "pkg-config")
    folder = tmp_path_factory.mktemp("cpp-peer")
    build(["protoc", f"-I{PROTOS_DIR}", "--cpp_out=.", "interop.proto"], folder)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "protobuf"], capture_output=True,
                           text=True, check=True).stdout.split()
    build(["g++", "-O1", "-std=c++17", "-o", "peer", str(PEERS_DIR / "peer.cc"),
           "interop.pb.cc", "-I.", *flags, "-pthread"], folder)
    return [str(folder / "peer")]


@pytest.fixture(scope="module")
def java_peer(tmp_path_factory) -> list[str]:
    require("protoc", "javac", "java")
    if not PROTOBUF_JAR.exists():
        pytest.skip(f"{PROTOBUF_JAR} not installed (apt-get install libprotobuf-java)")
    folder = tmp_path_factory.mktemp("java-peer")
    build(["protoc", f"-I{PROTOS_DIR}", "--java_out=.", "interop.proto"], folder)
    build(["javac", "-nowarn", "-d", "classes", "-cp", str(PROTOBUF_JAR),
           "interop/InteropProto.java", str(PEERS_DIR / "Peer.java")], folder)
    return ["java", "-cp", f"{folder / 'classes'}:{PROTOBUF_JAR}", "Peer"]


@pytest.fixture(params=["cpp", "java"])
def peer(request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    """(name, command) of each peer."""
    return request.param, request.getfixturevalue(f"{request.param}_peer")


def run_peer(peer: tuple[str, list[str]], mode: str, data: bytes) -> bytes:
    name, command = peer
    result = subprocess.run([*command, mode], input=data, capture_output=True,
                            timeout=PEER_TIMEOUT)
    assert result.returncode == 0, (
        f"the {name} peer's {mode} exited {result.returncode}: "
        f"{result.stderr.decode(errors='replace')[-2000:]}")
    return result.stdout


def to_text(messages: list) -> bytes:
    from google.protobuf import text_format

    return "".join(text_format.MessageToString(m, as_one_line=True) + "\n"
                   for m in messages).encode()


def from_text(interop, text: bytes) -> list:
    from google.protobuf import text_format

    lines = text.decode().split("\n")
    assert lines[-1] == "", "the peer's output does not end with a newline"
    return [text_format.Parse(line, interop.Sample()) for line in lines[:-1]]


def test_samples_are_varied(samples):
    """The messages cover what they should: every field set somewhere, empty and
    assembly-sized payloads, presence of a zero optional."""
    assert len(samples) == MESSAGES
    sizes = [s.ByteSize() for s in samples]
    assert sizes.count(0) >= MESSAGES // 50
    assert sum(size > 256 * 1024 for size in sizes) == 3
    assert sum(1024 < size < 256 * 1024 for size in sizes) >= MESSAGES // 10
    def present(sample, name: str) -> bool:
        try:
            return sample.HasField(name)
        except ValueError:  # a repeated or map field
            return bool(getattr(sample, name))

    for field in samples[0].DESCRIPTOR.fields:
        assert any(present(s, field.name) for s in samples), field.name
    assert any(s.HasField("maybe") and s.maybe == 0 for s in samples)


def test_peer_writes_tightbind_reads(interop, samples, peer):
    stream = run_peer(peer, "write", to_text(samples))
    for backend in BACKENDS:
        rng = random.Random(f"{peer[0]}-{backend}")
        got = read_all(interop.Sample, "varint", backend, random_chunks(stream, rng))
        assert_same_messages(got, samples, f"{backend} reading the {peer[0]} peer's stream")


def test_tightbind_writes_peer_reads(interop, samples, peer):
    stream = Processor(interop.Sample, codec="varint").serializer.serialize_many(samples)
    got = from_text(interop, run_peer(peer, "read", stream))
    assert_same_messages(got, samples, f"the {peer[0]} peer reading tightbind's stream")


# -- gRPC -----------------------------------------------------------------------------------
# peers/grpc_echo.py runs the grpcio server, client and relay in a child process: grpcio's
# threads stay alive after a call, and must not be in this process while other tests make
# its allocations fail (_testcapi.set_nomemory in test_processor.py).


def test_grpc_bodies_against_grpcio(interop, tmp_path):
    if importlib.util.find_spec("grpc") is None:  # not imported here: see above
        pytest.skip("grpcio is not installed (requirements/test.txt pins grpcio-tools)")
    messages = make_samples(interop, seed=34, count=GRPC_MESSAGES, large=2)
    bodies = [m.SerializeToString() for m in messages]
    one = next(body for body in bodies if 100 < len(body) < 100_000)  # for the unary calls
    compressible = interop.Sample(text="tightbind " * 500).SerializeToString()
    (tmp_path / "bodies").write_bytes(pickle.dumps((bodies, one, compressible)))
    result = subprocess.run([sys.executable, str(PEERS_DIR / "grpc_echo.py"),
                             str(tmp_path / "bodies"), str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=PEER_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    run = pickle.loads((tmp_path / "out").read_bytes())
    frames = run["frames"]
    assert run["replies"] == bodies and run["unary_reply"] == one
    assert run["gzip_reply"] == compressible
    assert run["received"] == [*bodies, one, compressible]  # what grpcio itself decoded

    streams = sorted({stream for _, stream in frames})
    assert len(streams) == 3, frames.keys()  # Chat, Echo, Echo with gzip
    chat, unary, gzip = streams
    serializer = Processor(interop.Sample, codec="grpc").serializer
    for direction in ("request", "response"):
        # tightbind writes what grpc-core writes, byte for byte ...
        assert b"".join(frames[(direction, chat)]) == serializer.serialize_many(messages)
        assert b"".join(frames[(direction, unary)]) == serializer.serialize(
            interop.Sample.FromString(one))
        for backend in BACKENDS:
            # ... and reads it, frame by frame as it arrived and in random chunks.
            where = f"{backend} reading the {direction}s"
            chat_frames = frames[(direction, chat)]
            got = read_all(interop.Sample, "grpc", backend, chat_frames)
            assert_same_messages(got, messages, f"{where} ({len(chat_frames)} DATA frames)")
            rng = random.Random(f"grpc-{direction}-{backend}")
            chunks = random_chunks(b"".join(chat_frames), rng)
            assert_same_messages(read_all(interop.Sample, "grpc", backend, chunks), messages,
                                 f"{where} in random chunks")
    for backend in BACKENDS:
        # A compressed message (flag 1) is refused, by name.
        processor = Processor(interop.Sample, codec="grpc", backend=backend)
        gzip_frames = frames[("request", gzip)]
        assert gzip_frames[0][0] == 1  # the compressed flag
        for frame in gzip_frames:
            processor.push(frame)
        with pytest.raises(UnknownMessageType, match="compressed"):
            processor.read_messages()
