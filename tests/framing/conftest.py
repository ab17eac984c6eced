"""Fixtures of the framing tests: message types, both backends, samples, a loopback pair."""

from __future__ import annotations

import contextlib
import itertools
import socket
from collections.abc import Callable, Iterator

import pytest

from tightbind.framing import Processor
from tightbind.framing import processor as processor_module

BACKENDS = ["native", "pure"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs once with the C scanner and once with its pure twin."""
    return request.param


@pytest.fixture(scope="session")
def types(protos):
    """(TestMsg, shapes.Point, shapes.Label, shapes.other.Point)"""
    return (protos.test_msg.TestMsg, protos.shapes.Point, protos.shapes.Label,
            protos.other.Point)


@pytest.fixture(scope="session")
def sample_messages(types) -> list:
    """One message of every type, among them an empty payload, a 1 KiB one and two
    classes named Point."""
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


@pytest.fixture(scope="session")
def drain() -> Callable[[Processor], list]:
    """``drain(processor)``: every message read_messages() returns until it is empty."""

    def drain(processor: Processor) -> list:
        out = []
        while batch := processor.read_messages():
            out.extend(batch)
        return out

    return drain


@pytest.fixture(scope="session")
def split() -> Callable[[bytes, list[int]], list[bytes]]:
    """``split(data, cuts)``: ``data`` cut at every position in ``cuts`` (modulo its
    length plus one), in order."""

    def split(data: bytes, cuts: list[int]) -> list[bytes]:
        points = sorted({c % (len(data) + 1) for c in cuts}) if data else []
        bounds = [0, *points, len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]

    return split


@pytest.fixture(scope="session")
def assemble_from() -> Callable[[int | None], contextlib.AbstractContextManager[None]]:
    """``with assemble_from(size):`` gather incomplete frames of at least ``size`` bytes
    piecewise (None: the default), so the assembly path runs on small test data too.
    A context manager rather than monkeypatch, so hypothesis tests can use it."""

    @contextlib.contextmanager
    def assemble_from(size: int | None) -> Iterator[None]:
        saved = processor_module._ASSEMBLE_THRESHOLD
        processor_module._ASSEMBLE_THRESHOLD = saved if size is None else size
        try:
            yield
        finally:
            processor_module._ASSEMBLE_THRESHOLD = saved

    return assemble_from


@pytest.fixture
def loopback_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected (client, server) pair of TCP sockets on 127.0.0.1, 10 s timeouts,
    Nagle off on the client so tiny writes go out as they are made.  Both are closed
    after the test (closing one earlier is allowed)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        server, _ = listener.accept()
    server.settimeout(10)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with client, server:
        yield client, server
