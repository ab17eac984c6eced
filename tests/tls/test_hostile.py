"""The standing hostile-input suite for tightbind.tls: every public entry point, in a
child under a hard time and memory limit (``helpers.limits.run_limited``), must answer a
:class:`tightbind.TlsError` (or succeed), never crash, hang or blow up.

Peers: every call that takes a timeout against every kind of hostile peer
(``helpers.peers``: stalling, trickling, flooding) returns within the timeout plus
``TIMEOUT_SLACK``.  Inputs: every fixture file truncated at many points, mutated at
random, and files claiming sizes the C cannot take.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers.limits import run_limited
from helpers.peers import AFTER, BEFORE
from helpers.pki import Pki

from tightbind.tls.connection import TIMEOUT_SLACK

# ----------------------------------------------------------------------------- peers

TIMEOUT = 1.0
TICKETS_TIMEOUT = 0.25  # the ticket flood takes ~1 s to read: longer than this + slack

# The child: a hostile peer in a thread and the client call, timed around the call only.
PEER_CHILD = """
import json, socket, time
from pathlib import Path
from helpers.peers import HostilePeer, wait_ready
from tightbind import tls

files = Path({files!r})
T = {timeout!r}
peer = HostilePeer({behaviour!r}, after_handshake={after!r}, chain=files / "leaf_chain.pem",
                   key=files / "leaf.key")

def connect(**kwargs):
    sock = socket.create_connection(("127.0.0.1", peer.port), timeout=10)
    return tls.TLSConnection(sock, "localhost", cafile=files / "root.pem", **kwargs)

def call():
{call}

outcome, longest = "ok", 0.0
try:
    call()
except Exception as exc:
    outcome = f"{{type(exc).__module__}}.{{type(exc).__qualname__}}"
    is_tls = isinstance(exc, tls.TlsError)
else:
    is_tls = True
print(json.dumps({{"outcome": outcome, "tls_error": is_tls, "seconds": longest}}))
"""

# Each call sets ``longest``: the longest single timed call it made.
HANDSHAKE_CALLS = {
    "fetch_chain": """
        global longest
        start = time.monotonic()
        try:
            tls.fetch_chain("127.0.0.1", peer.port, server_hostname="localhost",
                            cafile=files / "root.pem", timeout=T)
        finally:
            longest = time.monotonic() - start
    """,
    "TLSConnection(timeout=)": """
        global longest
        sock = socket.create_connection(("127.0.0.1", peer.port), timeout=10)
        start = time.monotonic()
        try:
            tls.TLSConnection(sock, "localhost", cafile=files / "root.pem", timeout=T)
        finally:
            longest = time.monotonic() - start
    """,
    "TLSConnection(socket timeout)": """
        global longest
        sock = socket.create_connection(("127.0.0.1", peer.port), timeout=T)
        start = time.monotonic()
        try:
            tls.TLSConnection(sock, "localhost", cafile=files / "root.pem")
        finally:
            longest = time.monotonic() - start
    """,
    "do_handshake": """
        global longest
        conn = connect(timeout=T, do_handshake_on_connect=False)
        start = time.monotonic()
        try:
            conn.do_handshake()
        finally:
            longest = time.monotonic() - start
    """,
}

# After a completed handshake; ``conn.settimeout(T)`` once the peer is ready.
IO_SETUP = """
        global longest
        conn = connect(timeout=10)
        wait_ready(peer)
        conn.settimeout(T)
"""
IO_CALLS = {
    "recv": """
        start = time.monotonic()
        try:
            conn.recv(100)
        finally:
            longest = time.monotonic() - start
    """,
    "recv_into": """
        start = time.monotonic()
        try:
            conn.recv_into(bytearray(100))
        finally:
            longest = time.monotonic() - start
    """,
    # send returns after each record it could write; the call that finds the socket
    # full is the one that must time out.
    "send": """
        data = b"s" * (1 << 20)
        for _ in range(1000):
            start = time.monotonic()
            try:
                conn.send(data)
            finally:
                longest = max(longest, time.monotonic() - start)
    """,
    "sendall": """
        data = b"s" * (64 << 20)
        start = time.monotonic()
        try:
            conn.sendall(data)
        finally:
            longest = time.monotonic() - start
    """,
    # close sends close_notify without waiting: bounded even with the buffers full.
    "close": """
        try:
            conn.sendall(b"c" * (64 << 20))
        except tls.TlsError:
            pass
        start = time.monotonic()
        conn.close()
        longest = time.monotonic() - start
    """,
}

# What each peer may make a call end with, besides a timeout: a protocol failure for
# data that is not TLS, a reset or EOF when it gives up, a success for real data.
ALLOWED = {"tightbind.tls.errors.TlsTimeout", "tightbind.tls.errors.HandshakeError",
           "tightbind.tls.errors.TlsConnectError"}


def run_peer_case(pki: Pki, behaviour: str, after: bool, call: str, timeout: float) -> dict:
    code = PEER_CHILD.format(files=str(pki.dir), timeout=timeout, behaviour=behaviour,
                             after=after, call=textwrap.indent(textwrap.dedent(call), "    "))
    result = run_limited(code, seconds=60, memory_mib=1024)
    assert not result.timed_out, f"hung: {result.stderr[-2000:]}"
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["peak_mib"] = result.peak_mib
    return report


def expect_bounded(report: dict, timeout: float) -> None:
    assert report["tls_error"], report
    assert report["outcome"] in ALLOWED | {"ok"}, report
    assert report["seconds"] <= timeout + TIMEOUT_SLACK, report
    assert report["peak_mib"] < 512, report


HANDSHAKE_CASES = [(b, c) for b in BEFORE for c in HANDSHAKE_CALLS]
FAST_CASES = {("hello-requests", "fetch_chain"), ("stall", "TLSConnection(timeout=)"),
              ("stall", "recv"), ("trickle", "recv")}


def maybe_slow(cases: list[tuple[str, str]]) -> list:
    return [pytest.param(*case, marks=() if case in FAST_CASES else pytest.mark.slow)
            for case in cases]


@pytest.mark.parametrize("behaviour, call", maybe_slow(HANDSHAKE_CASES))
def test_handshake_deadline_holds_against_hostile_peers(pki: Pki, behaviour: str,
                                                        call: str) -> None:
    report = run_peer_case(pki, behaviour, False, HANDSHAKE_CALLS[call], TIMEOUT)
    expect_bounded(report, TIMEOUT)
    if behaviour in ("stall", "trickle", "hello-requests"):
        assert report["outcome"] == "tightbind.tls.errors.TlsTimeout", report


IO_CASES = [(b, c) for b in AFTER for c in IO_CALLS]


@pytest.mark.parametrize("behaviour, call", maybe_slow(IO_CASES))
def test_io_deadline_holds_against_hostile_peers(pki: Pki, behaviour: str, call: str) -> None:
    timeout = TICKETS_TIMEOUT if behaviour == "tickets" else TIMEOUT
    report = run_peer_case(pki, behaviour, True, IO_SETUP + IO_CALLS[call], timeout)
    expect_bounded(report, timeout)
    if call.startswith("recv") and behaviour in ("stall", "trickle", "tickets"):
        assert report["outcome"] == "tightbind.tls.errors.TlsTimeout", report
    if call.startswith("recv") and behaviour == "data":
        assert report["outcome"] == "ok", report
    if call.startswith("send") and behaviour in ("stall", "trickle", "data"):
        assert report["outcome"] == "tightbind.tls.errors.TlsTimeout", report


# ----------------------------------------------------------------------- oversized inputs

OVERSIZED_CHILD = """
import json, mmap
from tightbind import tls

calls = {{
    "load_certificate PEM": lambda v: tls.load_certificate(tls.FILETYPE_PEM, v),
    "load_certificate DER": lambda v: tls.load_certificate(tls.FILETYPE_ASN1, v),
    "Certificate.from_pem": tls.Certificate.from_pem,
    "Certificate.from_der": tls.Certificate.from_der,
    "load_certificates": tls.load_certificates,
    "load_privatekey PEM": lambda v: tls.load_privatekey(tls.FILETYPE_PEM, v, "pw"),
    "load_privatekey DER": lambda v: tls.load_privatekey(tls.FILETYPE_ASN1, v),
    "load_pkcs12": lambda v: tls.load_pkcs12(v, "pw"),
}}
outcomes = {{}}
with open({path!r}, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
    for name, call in calls.items():
        with memoryview(mapped) as view:
            try:
                call(view)
                outcomes[name] = "accepted"
            except Exception as exc:
                outcomes[name] = type(exc).__name__
print(json.dumps(outcomes))
"""


def test_inputs_over_two_gib_are_refused_before_any_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tightbind.tls import MAX_INPUT

    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        f.truncate(MAX_INPUT + 1)  # 2 GiB of holes: no disk, no memory
    result = run_limited(OVERSIZED_CHILD.format(path=str(path)), seconds=60, memory_mib=256)
    assert result.returncode == 0 and not result.timed_out, result.stderr[-2000:]
    outcomes = json.loads(result.stdout)
    assert set(outcomes.values()) == {"InputTooLarge"}, outcomes
    assert result.peak_mib < 200


# --------------------------------------------------------------- damaged files, flights
# Every public entry point that reads bytes, fed every fixture file of its kind truncated
# at many points and mutated at random (helpers.hostile), in a child under hard limits;
# whatever loads is then used (decoded, verified, re-encoded).  Each must answer with a
# TlsError or succeed: no other exception, no crash, no hang, bounded memory.

INPUT_CHILD = """
import datetime as dt
from pathlib import Path
from helpers.hostile import Tally, mutations, truncations
from tightbind import tls

files = Path({files!r})
PASSWORD = {password!r}
ALLOWED = (tls.TlsError,)
tally = Tally()
AT = dt.datetime.now(dt.timezone.utc)

def use_cert(cert):
    cert.to_dict(); str(cert.subject); repr(cert); cert.subject.CN; cert.issuer.get_components()
    cert.serial_number; cert.not_before; cert.not_after; cert.subject_alt_names
    cert.public_key_info; cert.signature_algorithm; cert.ocsp_urls; cert.fingerprint()
    cert.get_notAfter(); cert.has_expired(); hash(cert)
    assert tls.load_certificate(tls.FILETYPE_ASN1, cert.der) == cert
    tls.load_certificate(tls.FILETYPE_PEM, cert.pem)
    try:
        tls.verify_chain(cert, cafile=files / "root.pem", hostname="localhost", at_time=AT)
    except tls.CertificateVerifyError:
        pass

def use_key(key):
    key.bits(); key.key_type; key.public_pem(); repr(key); hash(key)
    tls.dump_privatekey(tls.FILETYPE_ASN1, key)
    tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-128-cbc", "pw")

def use_p12(p12):
    for cert in filter(None, [p12.certificate, *p12.ca_certificates]):
        use_cert(cert)
    if p12.private_key is not None:
        use_key(p12.private_key)
    if p12.private_key is not None or p12.certificate is not None:
        p12.export("pw")

def variants(data):
    yield from truncations(data)
    yield from mutations(data, count={mutations})

{body}
print(tally.report())
"""

CERT_BODY = """
for name in ("root", "inter", "leaf", "ec_leaf", "expired"):
    pem = (files / f"{name}.pem").read_bytes()
    der = tls.load_certificate(tls.FILETYPE_PEM, pem).der
    for data in variants(pem):
        tally.run("load_certificate PEM", data,
                  lambda: use_cert(tls.load_certificate(tls.FILETYPE_PEM, data)), ALLOWED)
        text = data.decode("latin-1")
        tally.run("Certificate.from_pem str", data,
                  lambda: use_cert(tls.Certificate.from_pem(text)), ALLOWED)
    for data in variants(der):
        tally.run("load_certificate DER", data,
                  lambda: use_cert(tls.Certificate.from_der(data)), ALLOWED)
for name in ("leaf_chain", "cas", "expired_chain"):
    for data in variants((files / f"{name}.pem").read_bytes()):
        tally.run("load_certificates", data,
                  lambda: [use_cert(c) for c in tls.load_certificates(data)], ALLOWED)
"""

KEY_BODY = """
for name in ("leaf.key", "ec.key", "inter.key"):
    pem = (files / name).read_bytes()
    key = tls.load_privatekey(tls.FILETYPE_PEM, pem)
    forms = {
        "PEM": (tls.FILETYPE_PEM, pem, None),
        "DER": (tls.FILETYPE_ASN1, tls.dump_privatekey(tls.FILETYPE_ASN1, key), None),
        "encrypted PEM": (tls.FILETYPE_PEM,
                          tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-256-cbc", "pw"), "pw"),
        "encrypted DER": (tls.FILETYPE_ASN1,
                          tls.dump_privatekey(tls.FILETYPE_ASN1, key, "des-ede3-cbc", "pw"),
                          "pw"),
    }
    for form, (filetype, source, password) in forms.items():
        for data in variants(source):
            tally.run(f"load_privatekey {form}", data,
                      lambda: use_key(tls.load_privatekey(filetype, data, password)), ALLOWED)
"""

P12_BODY = """
for name in ("aes", "legacy", "empty", "nokey", "nomac", "plain"):
    source = (files / f"{name}.p12").read_bytes()
    password = "" if name == "empty" else PASSWORD
    for data in variants(source):
        tally.run("load_pkcs12", data,
                  lambda: use_p12(tls.load_pkcs12(data, password,
                                                  allow_missing_mac=name in ("nomac", "plain"))),
                  ALLOWED)
"""

FLIGHT_BODY = """
import ssl
from helpers.peers import FlightPeer

for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
    def transform(flight, index, version=version):
        if index % 2 == 0:
            points = list(truncations(flight, samples=40))
            return points[(index // 2) % len(points)]
        return next(mutations(flight, count=1, seed=index))

    with FlightPeer(files / "leaf_chain.pem", files / "leaf.key", transform,
                    max_version=version) as peer:
        for index in range({flights}):
            name = f"fetch_chain {version.name}"
            call = lambda: tls.fetch_chain("127.0.0.1", peer.port, server_hostname="localhost",
                                           cafile=files / "root.pem", timeout=3)
            tally.run(name, str(index).encode(), call, ALLOWED)
"""

INPUT_FAMILIES = {"certificates": CERT_BODY, "private keys": KEY_BODY, "pkcs12": P12_BODY,
                  "server flights": FLIGHT_BODY}


@pytest.mark.slow
@pytest.mark.parametrize("family", INPUT_FAMILIES)
def test_damaged_inputs_give_tls_errors(pki: Pki, family: str) -> None:
    from helpers.pki import PASSWORD

    body = INPUT_FAMILIES[family].replace("{flights}", "200")
    code = INPUT_CHILD.format(files=str(pki.dir), password=PASSWORD, mutations=150,
                              body=textwrap.dedent(body))
    result = run_limited(code, seconds=240, memory_mib=1024)
    assert not result.timed_out, f"hung: {result.stderr[-2000:]}"
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["cases"] >= 240, report
    assert not report["unexpected"], json.dumps(report["unexpected"][:5], indent=1)
    assert result.peak_mib < 400, result.peak_mib


ITERATIONS_CHILD = """
import base64, json, subprocess
from pathlib import Path
from helpers.der import pkcs12_remac, set_mac_iterations, set_pbe_iterations
from tightbind import tls

files = Path({files!r})
PASSWORD = {password!r}
cases = {{}}
for value in ((1 << 31) - 1, 1 << 70, tls.MAX_ITERATIONS + 1):
    for name in ("aes", "legacy", "empty", "nomac", "plain"):
        data = (files / f"{{name}}.p12").read_bytes()
        password = "" if name == "empty" else PASSWORD
        if name not in ("nomac", "plain"):
            cases[f"{{name}}.p12 MAC {{value}}"] = (set_mac_iterations(data, value), password)
        for which in range(3):
            edited = set_pbe_iterations(data, value, which)
            if edited == data:
                break
            if name not in ("nomac", "plain"):
                edited = pkcs12_remac(edited, password)
            cases[f"{{name}}.p12 PBE #{{which}} {{value}}"] = (edited, password)

key = tls.load_privatekey(tls.FILETYPE_PEM, (files / "ec.key").read_bytes())
scrypt = subprocess.run(["openssl", "pkcs8", "-topk8", "-in", str(files / "ec.key"), "-scrypt",
                         "-scrypt_N", "1024", "-scrypt_r", "8", "-scrypt_p", "1", "-outform",
                         "DER", "-passout", "pass:pw"], capture_output=True, check=True).stdout
keys = {{"PBKDF2": tls.dump_privatekey(tls.FILETYPE_ASN1, key, "aes-256-cbc", "pw"),
        "PKCS#12 PBE": subprocess.run(
            ["openssl", "pkcs8", "-topk8", "-in", str(files / "ec.key"), "-v1",
             "PBE-SHA1-3DES", "-outform", "DER", "-passout", "pass:pw"],
            capture_output=True, check=True).stdout,
        "scrypt": scrypt}}
for kind, der in keys.items():
    assert tls.load_privatekey(tls.FILETYPE_ASN1, der, "pw") == key
    edited = set_pbe_iterations(der, 1 << 40)
    pem = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\\n" + base64.encodebytes(edited)
           + b"-----END ENCRYPTED PRIVATE KEY-----\\n")
    cases[f"{{kind}} key DER"] = (edited, None)
    cases[f"{{kind}} key PEM"] = (pem, None)

out = {{}}
for name, (data, password) in cases.items():
    try:
        if " key " in name:
            filetype = tls.FILETYPE_PEM if name.endswith("PEM") else tls.FILETYPE_ASN1
            tls.load_privatekey(filetype, data, "pw")
        else:
            tls.load_pkcs12(data, password, allow_missing_mac=True)
        out[name] = "accepted"
    except Exception as exc:
        out[name] = type(exc).__name__
print(json.dumps(out))
"""


def test_key_derivation_claims_are_refused_before_the_work(pki: Pki) -> None:
    """A 3 KB .p12 or key asking for 2^31 PBKDF2 iterations took hours (24 s for 50
    million); every PBE parameter of every fixture kind, set past the budget, must now
    be refused at once."""
    from helpers.pki import PASSWORD

    result = run_limited(ITERATIONS_CHILD.format(files=str(pki.dir), password=PASSWORD),
                         seconds=60, memory_mib=512)
    assert not result.timed_out, f"hung: {result.stderr[-2000:]}"
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = json.loads(result.stdout)
    assert len(outcomes) >= 30, outcomes
    assert set(outcomes.values()) == {"InputTooLarge"}, outcomes
