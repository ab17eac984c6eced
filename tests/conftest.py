"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside this checkout")
    return SHARED


def pytest_report_header(config: pytest.Config) -> str:
    import tightbind

    return f"tightbind {tightbind.__version__} from {os.path.dirname(tightbind.__file__)}"


@pytest.fixture(scope="session")
def protos(tmp_path_factory: pytest.TempPathFactory):
    """The test .proto files compiled by protoc (grpc_tools) and imported.

    Returns a namespace with the generated modules: ``test_msg``, ``shapes``, ``other``.
    """
    import importlib
    import subprocess
    import sys
    import types

    out = tmp_path_factory.mktemp("protos")
    src = Path(__file__).parent / "protos"
    files = sorted(p.name for p in src.glob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{src}", f"--python_out={out}", *files],
        check=True,
    )
    sys.path.insert(0, str(out))
    try:
        return types.SimpleNamespace(
            **{name[: -len(".proto")]: importlib.import_module(name[: -len(".proto")] + "_pb2")
               for name in files}
        )
    finally:
        sys.path.remove(str(out))


# ------------------------------------------------------------------------------ TLS
# The test PKI (tests/_tls_pki.py) and a loopback TLS server, made once per session for
# tests/tls/ and the other TLS test files.


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """A root, an intermediate, leaves (RSA, EC, expired) and .p12 files, as a
    ``_tls_pki.Pki`` (files by name in ``pki.files``)."""
    from _tls_pki import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def rsa_server(pki):
    """A TLS echo server on 127.0.0.1 sending the RSA leaf and the intermediate
    (``_tls_pki.TlsServer``)."""
    from _tls_pki import TlsServer

    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        yield server
