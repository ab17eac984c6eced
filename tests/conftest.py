"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


TESTS = Path(__file__).resolve().parent

# Registered here rather than in pyproject.toml, so that runs which do not read the tree's
# configuration (the suite against the installed wheel runs with ``-c /dev/null``) know them.
MARKERS = {
    "slow": "long-running checks (memory soaks, fuzzing); run by the default test command",
    "wheel": "tests against a built wheel; skipped unless the wheel exists",
    "fresh": "the set-up and wheel build in a fresh Debian root; a pass is remembered by "
             "recipe hash",
    "cross": "wheels cross-built by zig (aarch64 under qemu, x86-64 for glibc 2.17); run "
             "when TIGHTBIND_CROSS=1 or their vendored libraries are cached",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, reason in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {reason}")
    # Started as a background job of a non-interactive shell (scripts/test's packaging
    # lane, a CI runner, nohup ... &), the session inherits SIGINT ignored, and every
    # child Python would too: an ignored signal stays ignored across exec, and CPython
    # then installs no KeyboardInterrupt handler (tesserocr's own
    # test_sigint_during_worker_ocr failed so).  Python's handler here gives children
    # SIGINT at its default, as from a terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def child_env(**updates: str) -> dict[str, str]:
    """This process's environment for a child Python that imports tests/helpers."""
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **updates}


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside this checkout")
    return SHARED


def pytest_report_header(config: pytest.Config) -> list[str]:
    import tightbind

    lines = [f"tightbind {tightbind.__version__} from {os.path.dirname(tightbind.__file__)}"]
    try:
        import google.protobuf
        from google.protobuf.internal import api_implementation
    except ImportError:
        return lines
    return [*lines, f"protobuf {google.protobuf.__version__} ({api_implementation.Type()})"]


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


# ---- OCR pages -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Rendered 300-dpi PNG pages with known text: paragraph, line, blocks."""
    from helpers.pages import PARAGRAPH, render, save

    folder = tmp_path_factory.mktemp("pages")
    two_blocks = ["Alpha beta gamma delta", "", "", "Second block of words here"]
    out = {
        "paragraph": save(render(PARAGRAPH)[0], folder / "paragraph.png"),
        "line": save(render(["Hello tightbind 123"])[0], folder / "line.png"),
        "blocks": save(render(two_blocks)[0], folder / "blocks.png"),
    }
    return out


@pytest.fixture(scope="session")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for batches: a PNG, a two-page TIFF in a subfolder, a two-page PDF, a
    corrupt PNG and a text file no folder walk picks up."""
    from helpers.pages import PARAGRAPH, render, save

    folder = tmp_path_factory.mktemp("mixed")
    (folder / "scans").mkdir()
    save(render(["Hello tightbind 123"])[0], folder / "line.png")
    first, second = render(PARAGRAPH)[0], render(["Second page words here"])[0]
    first.save(folder / "scans" / "two.tif", save_all=True, append_images=[second],
               dpi=(300, 300))
    render(["Portable document page one"])[0].convert("RGB").save(
        folder / "two.pdf", save_all=True, resolution=300,
        append_images=[render(["And page two of it"])[0].convert("RGB")])
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask LocalCluster: two worker processes of one thread, and its client.

    One per test module, closed when the module ends: its client's event-loop thread must
    not outlive the Dask tests, because tests/framing/test_processor.py makes Python's
    allocator fail process-wide (_testcapi.set_nomemory), and a Dask thread that met
    those failures closed its loop (later tests: "IOLoop is closed") or crashed the
    interpreter (a segfault in the 3.12 wheel run)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield cluster, client


@pytest.fixture(scope="session")
def phototest(shared_dir: Path) -> Path:
    """The real scan ../shared/ocr/phototest.tif; tests that use it skip without it."""
    path = shared_dir / "ocr" / "phototest.tif"
    if not path.exists():
        pytest.skip("phototest.tif is not in ../shared/ocr")
    return path


# ------------------------------------------------------------------------------ TLS
# The test PKI (tests/helpers.pki.py) and a loopback TLS server, made once per session for
# tests/tls/ and the other TLS test files.


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """A root, an intermediate, leaves (RSA, EC, expired) and .p12 files, as a
    ``helpers.pki.Pki`` (files by name in ``pki.files``)."""
    from helpers.pki import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def aia_pki(tmp_path_factory: pytest.TempPathFactory):
    """The chain doctor's PKI and its loopback caIssuers server (``helpers.aia``)."""
    from helpers.aia import make_aia_pki

    made = make_aia_pki(tmp_path_factory.mktemp("aia_pki"))
    yield made
    made.close()


@pytest.fixture(scope="session")
def rsa_server(pki):
    """A TLS echo server on 127.0.0.1 sending the RSA leaf and the intermediate
    (``helpers.pki.TlsServer``)."""
    from helpers.pki import TlsServer

    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        yield server
