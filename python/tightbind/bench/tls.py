"""``tightbind bench tls``: PKCS#12 loads and certificate decodes per second, against
CPython's own decoder; a loopback chain fetch against one ``openssl s_client
-showcerts`` process and a plain CPython ``ssl`` handshake.

Every input is made here with the ``openssl`` command in a temporary folder; the server
is ``openssl s_server`` on 127.0.0.1.  The repository's ``bench/tls.py`` adds the
contests against other packages (cryptography, pyOpenSSL, sslyze) to these tables.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from tightbind.bench._report import Table, interleaved

PASSWORD = "bench password"


def openssl(folder: Path, *args: str) -> None:
    """Run the ``openssl`` command in ``folder``."""
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=120)


def make_inputs(folder: Path) -> None:
    """An EC root, an RSA-2048 leaf for localhost, and .p12 files (AES and legacy)."""
    (folder / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                    "authorityInfoAccess=OCSP;URI:http://ocsp.bench/\n"
                                    "crlDistributionPoints=URI:http://crl.bench/r.crl\n")
    openssl(folder, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "2",
            "-subj", "/C=NZ/O=tightbind bench/CN=bench root",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.csr", "-subj", "/C=NZ/O=tightbind bench/CN=localhost")
    openssl(folder, "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey",
            "root.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2",
            "-extfile", "san.cnf")
    for name, extra in (("aes.p12", ()), ("legacy.p12", ("-legacy",))):
        openssl(folder, "pkcs12", "-export", *extra, "-in", "leaf.pem", "-inkey", "leaf.key",
                "-certfile", "root.pem", "-name", "bench", "-passout", f"pass:{PASSWORD}",
                "-out", name)
    openssl(folder, "pkcs12", "-export", "-in", "root.pem", "-inkey", "root.key", "-name",
            "bench", "-passout", f"pass:{PASSWORD}", "-out", "ec-aes.p12")
    os.chmod(folder / "leaf.key", 0o600)


def rows(task: str, timings: dict[str, float]) -> list[list[Any]]:
    """Table rows of one task: calls per second and the speed against tightbind's."""
    base = timings["tightbind"]
    return [[task, name, 1.0 / seconds, f"{base / seconds:.2f}x"]
            for name, seconds in timings.items()]


# Another package's call for a row of its own: a function of the input (the .p12 bytes,
# or the PEM certificate) returning the call to time.
PeerCall = Callable[[bytes], Callable[[], Any]]


def p12_and_decode(folder: Path, rounds: int, min_time: float,
                   load_peers: dict[str, PeerCall] | None = None,
                   decode_peers: dict[str, PeerCall] | None = None) -> Table:
    """load_pkcs12 of each .p12 file and a whole certificate decode, with CPython's
    decoder and the callers' ``load_peers`` and ``decode_peers`` interleaved."""
    from tightbind import tls

    table = Table("TLS: PKCS#12 load and certificate decode (calls per second)",
                  ["task", "contender", "per second", "speed vs tightbind"])
    for name in ("aes.p12", "legacy.p12", "ec-aes.p12"):
        data = (folder / name).read_bytes()
        contenders: dict[str, Callable[[], Any]] = {
            "tightbind": partial(tls.load_pkcs12, data, PASSWORD)}
        contenders.update({peer: make(data) for peer, make in (load_peers or {}).items()})
        table.rows += rows(f"load_pkcs12 {name}", interleaved(contenders, rounds=rounds,
                                                              min_time=min_time))
    pem = (folder / "leaf.pem").read_bytes()
    path = str(folder / "leaf.pem")

    def tightbind_decode() -> Any:
        return tls.load_certificate(tls.FILETYPE_PEM, pem).to_dict()

    contenders = {"tightbind": tightbind_decode,
                  "CPython ssl._test_decode_cert (reads the file)":
                  lambda: ssl._ssl._test_decode_cert(path)}  # type: ignore[attr-defined]
    contenders.update({peer: make(pem) for peer, make in (decode_peers or {}).items()})
    table.rows += rows("decode certificate (PEM to all fields)",
                       interleaved(contenders, rounds=rounds, min_time=min_time))
    table.notes.append("inputs: RSA-2048 leaf with SANs, AIA and CRL DP, EC P-256 root, "
                       "made by the openssl command; .p12 from openssl pkcs12 -export "
                       "(AES-256-CBC/PBKDF2 and -legacy RC2-40/3DES)")
    return table


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(folder: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    """openssl s_server on 127.0.0.1 with the bench's leaf and root; returns it and its
    port once it accepts."""
    port = _free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "leaf.pem",
         "-cert_chain", "root.pem", "-key", "leaf.key", "-quiet", "-naccept", "100000",
         *extra],
        cwd=folder, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("openssl s_server did not start") from None
            time.sleep(0.05)


def chain_fetch(folder: Path, rounds: int, min_time: float) -> Table:
    """fetch_chain against ``openssl s_client -showcerts`` and a CPython handshake."""
    from tightbind import tls

    server, port = serve(folder)
    try:
        cafile = str(folder / "root.pem")

        def tightbind_fetch() -> Any:
            chain = tls.fetch_chain("127.0.0.1", port, server_hostname="localhost",
                                    cafile=cafile, timeout=10)
            if not chain.trusted or len(chain.unverified) != 2:
                raise RuntimeError(f"unexpected chain: {chain}")
            return chain

        def s_client() -> Any:
            return subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                 "localhost", "-showcerts", "-CAfile", cafile], input=b"",
                capture_output=True, timeout=30, check=True)

        context = ssl.create_default_context(cafile=cafile)

        def python_ssl() -> Any:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as conn:
                return conn.getpeercert(True)

        timings = interleaved({"tightbind": tightbind_fetch,
                               "openssl s_client -showcerts (one process)": s_client,
                               "Python ssl handshake (leaf only, no chain)": python_ssl},
                              rounds=rounds, min_time=min_time)
    finally:
        server.kill()
        server.wait(10)
    table = Table("TLS: fetch a chain from openssl s_server on 127.0.0.1 (fetches per second)",
                  ["task", "contender", "per second", "speed vs tightbind"],
                  rows=rows("connect + TLS 1.3 handshake + chain", timings))
    table.notes.append("server: openssl s_server with an RSA-2048 leaf and its EC root; "
                       "every fetch is a new TCP connection and a full handshake")
    table.notes.append("fetch_chain shares one SSL_CTX per trust file (rebuilt when it "
                       "changes); the Python ssl row reuses one context and returns only "
                       "the leaf")
    return table


def add_headlines(table: Table) -> Table:
    """Summary rows: the rate of each tightbind build (this install, the wheel) on each
    task against every other contender's."""
    ours = [(row[1], row[0], row[2]) for row in table.rows if row[1].startswith("tightbind")]
    for name, ours_task, ours_rate in ours:
        label = ours_task if name == "tightbind" else f"{ours_task} [{name}]"
        for task, contender, rate, _ in table.rows:
            if task == ours_task and not contender.startswith("tightbind"):
                table.headlines.append([label, f"{ours_rate:,.0f}/s", contender,
                                        f"{ours_rate / rate:.2f}x"])
    return table


def versions() -> dict[str, str]:
    from tightbind import tls

    return {"OpenSSL": tls.openssl_version()}


def rounds_for(quick: bool) -> tuple[int, float]:
    """(rounds, seconds each contender's calls take per round at least)."""
    return (3, 0.02) if quick else (7, 0.2)


def inputs_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder holding :func:`make_inputs`'s files; ImportError (the area is
    skipped) without tightbind.tls or the openssl command."""
    from tightbind import tls  # noqa: F401  (ImportError says what to install)

    if shutil.which("openssl") is None:
        raise ImportError("the openssl command is needed to make the benchmark inputs")
    folder = tempfile.TemporaryDirectory(prefix="tightbind-bench-tls-")
    make_inputs(Path(folder.name))
    return folder


def run(quick: bool) -> list[Table]:
    """The TLS tables; ImportError when tightbind._tls is missing."""
    rounds, min_time = rounds_for(quick)
    with inputs_folder() as tmp:
        folder = Path(tmp)
        return [add_headlines(p12_and_decode(folder, rounds, min_time)),
                add_headlines(chain_fetch(folder, rounds, min_time))]
