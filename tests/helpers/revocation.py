"""The revocation part of the chain doctor's test PKI (``helpers.aia``), made with the
``openssl`` command: an ``openssl ca`` index of the intermediate's leaves (one revoked,
one missing), CRLs from ``openssl ca -gencrl`` (current, expired, with a broken
signature), OCSP responses from ``openssl ocsp`` to staple (good, revoked, unknown,
short-lived (``-nmin 1``: stale an hour later), signed by a stranger (with and without
its certificate), by a delegated responder, with a broken signature),
and a live responder: POST /ocsp on the loopback server runs ``openssl ocsp -reqin`` on
the request it receives.  :class:`StapleServer` is ``openssl s_server -status_file``.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers.pki import NOW

_CA_CONFIG = """[ca]
default_ca = doctor_ca
[doctor_ca]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 7
"""


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _index_line(cert: x509.Certificate, revoked: str | None = None) -> str:
    serial = format(cert.serial_number, "X")
    serial = "0" * (len(serial) % 2) + serial
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    subject = f"/O=tightbind doctor/CN={cn!s}"
    expiry = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    return "\t".join(["R" if revoked else "V", expiry, revoked or "", serial, "unknown",
                      subject]) + "\n"


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def add_revocation(out: Any, leaf: Callable[..., x509.Certificate],
                   cert: Callable[..., x509.Certificate], pem: Callable[..., bytes], *,
                   inter: x509.Certificate, inter_key: Any, other: x509.Certificate,
                   other_key: Any, leaf_key: Any, root: x509.Certificate,
                   root_key: Any) -> None:
    """Add the revocation leaves, CRLs, staples and the live responders to ``out`` (an
    ``AiaPki``): chains ``rev_*``, staples ``out.staples[...]``, CRLs on the server.
    POST /ocsp answers for the intermediate's leaves, /ocsp-root for the root's
    intermediates (a second one, "Doctor Revoked Intermediate CA", revoked by the root,
    issues the ``rev_inter_revoked`` leaf)."""
    pki, server = out.pki, out.server
    pki.write("other.key", _key_pem(other_key))
    ocsp_url, crl_der, crl_pem = (server.url("/ocsp"), server.url("/crl/inter.crl"),
                                  server.url("/crl/inter.pem"))
    leaves = {
        "rev_good": leaf("revgood", ocsp=ocsp_url, crl=crl_der),
        "rev_revoked": leaf("revoked", ocsp=ocsp_url, crl=crl_pem),
        "rev_unknown": leaf("revunknown", ocsp=ocsp_url, crl=crl_der),
        "rev_must_staple": leaf("muststaple", ocsp=ocsp_url, crl=crl_der, must_staple=True),
        "rev_crl_expired": leaf("crlexpired", crl=server.url("/crl/expired.crl")),
        "rev_crl_badsig": leaf("crlbadsig", crl=server.url("/crl/badsig.crl")),
        "rev_stall": leaf("revstall", ocsp=server.url("/stall"), crl=server.url("/stall")),
        "rev_huge": leaf("revhuge", ocsp=server.url("/huge"), crl=server.url("/huge")),
        "rev_garbage": leaf("revgarbage", ocsp=server.url("/garbage"),
                            crl=server.url("/garbage")),
        "rev_refused": leaf("revrefused", ocsp=server.url("/ocsp-try-later")),
    }
    revoked_at = (NOW - dt.timedelta(hours=3)).strftime("%y%m%d%H%M%SZ")
    index = "".join(_index_line(c, f"{revoked_at},keyCompromise" if name == "rev_revoked"
                                else None)
                    for name, c in leaves.items() if name != "rev_unknown")
    pki.write("index.txt", index.encode())
    pki.write("ca.cnf", _CA_CONFIG.encode())
    pki.write("crlnumber", b"1000\n")
    for name, c in leaves.items():
        out.chains[name] = pki.write(f"{name}_chain.pem", pem(c, inter))
        out.keys[name] = pki.files["leaf.key"]
        out.serials[name] = c.serial_number
        pki.write(f"{name}_leaf.pem", pem(c))
    # Delegated responder: issued by the intermediate for OCSP signing only.
    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = cert("Doctor OCSP Responder", inter, responder_key, inter_key,
                     ocsp_signing=True)
    pki.write("responder.pem", pem(responder))
    pki.write("responder.key", _key_pem(responder_key))

    # CRLs: current (DER and PEM), expired, and one whose signature is broken.
    gencrl = ["ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "inter.key", "-cert",
              "inter.pem"]
    crl = pki.openssl(*gencrl)
    server.files["/crl/inter.pem"] = crl
    server.files["/crl/inter.crl"] = pki.openssl("crl", "-outform", "DER", input=crl)
    stamp = "%Y%m%d%H%M%SZ"
    expired = pki.openssl(*gencrl, "-crl_lastupdate", (NOW - dt.timedelta(days=9)).strftime(
        stamp), "-crl_nextupdate", (NOW - dt.timedelta(days=2)).strftime(stamp))
    server.files["/crl/expired.crl"] = pki.openssl("crl", "-outform", "DER", input=expired)
    server.files["/crl/badsig.crl"] = _flip_last_byte(server.files["/crl/inter.crl"])
    server.files["/ocsp-try-later"] = bytes.fromhex("30030a0103")  # responseStatus 3

    def respond(name: str, signer: str = "inter", *extra: str) -> bytes:
        pki.openssl("ocsp", "-index", "index.txt", "-CA", "inter.pem", "-rsigner",
                    f"{signer}.pem", "-rkey", f"{signer}.key", "-issuer", "inter.pem",
                    "-cert", f"{name}_leaf.pem", "-respout", "response.der", *extra)
        return (pki.dir / "response.der").read_bytes()

    def staple(label: str, data: bytes) -> None:
        out.staples[label] = pki.write(f"staple_{label}.der", data)

    for name in ("rev_good", "rev_revoked", "rev_unknown", "rev_must_staple"):
        staple(name.removeprefix("rev_"), respond(name, "inter", "-ndays", "7"))
    staple("short", respond("rev_good", "inter", "-nmin", "1"))
    staple("badsig", _flip_last_byte(respond("rev_good", "inter", "-ndays", "7",
                                             "-resp_no_certs")))
    staple("stranger", respond("rev_good", "other", "-ndays", "7"))
    staple("stranger_nocerts", respond("rev_good", "other", "-ndays", "7", "-resp_no_certs"))
    staple("delegated", respond("rev_good", "responder", "-ndays", "7"))

    def responder(index: str, ca: str) -> Callable[[bytes], bytes]:
        def answer(request: bytes) -> bytes:
            with tempfile.TemporaryDirectory(dir=pki.dir) as folder:
                Path(folder, "req.der").write_bytes(request)
                pki.openssl("ocsp", "-index", index, "-CA", f"{ca}.pem", "-rsigner",
                            f"{ca}.pem", "-rkey", f"{ca}.key", "-reqin",
                            str(Path(folder, "req.der")), "-respout",
                            str(Path(folder, "resp.der")), "-ndays", "7")
                return Path(folder, "resp.der").read_bytes()
        return answer

    live = responder("index.txt", "inter")
    server.httpd.responders["/ocsp"] = live

    # An intermediate the root revoked, with the root's responder in its AIA.
    pki.write("root.key", _key_pem(root_key))
    inter2_key = ec.generate_private_key(ec.SECP256R1())
    inter2 = cert("Doctor Revoked Intermediate CA", root, inter2_key, root_key, ca=True,
                  ocsp=server.url("/ocsp-root"))
    pki.write("index-root.txt", _index_line(inter2, f"{revoked_at},CACompromise").encode())
    server.httpd.responders["/ocsp-root"] = responder("index-root.txt", "root")
    under_revoked = cert("underrevoked.doctor.test", inter2, leaf_key, inter2_key)
    out.chains["rev_inter_revoked"] = pki.write("rev_inter_revoked_chain.pem",
                                                pem(under_revoked, inter2))
    out.keys["rev_inter_revoked"] = pki.files["leaf.key"]

    # The same files over HTTPS, served with the "clean" chain (trusted by root.pem).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(out.chains["clean"]), str(out.keys["clean"]))
    from helpers.aia import AiaServer

    out.https = AiaServer(context)
    out.https.httpd.files = server.files
    out.https.httpd.responders["/ocsp"] = live
    https_leaf = cert("revhttps.doctor.test", inter, leaf_key, inter_key,
                      ocsp=out.https.url("/ocsp"), crl=out.https.url("/crl/inter.crl"))
    out.chains["rev_https"] = pki.write("rev_https_chain.pem", pem(https_leaf, inter))
    out.keys["rev_https"] = pki.files["leaf.key"]
    with open(pki.files["index.txt"], "a", encoding="ascii") as index_file:
        index_file.write(_index_line(https_leaf))
    out.chains["incomplete_https"] = pki.write("incomplete_https_chain.pem", pem(
        cert("httpsaia.doctor.test", inter, leaf_key, inter_key,
             aia=out.https.url("/inter.der"))))
    out.keys["incomplete_https"] = pki.files["leaf.key"]


class StapleServer:
    """``openssl s_server`` on 127.0.0.1 serving chain ``name`` of the doctor's PKI and
    stapling the DER OCSP response in ``staple`` (``-status_file``)."""

    def __init__(self, pki: Any, name: str, staple: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-cert",
             f"{name}_leaf.pem", "-key", str(pki.files["leaf.key"]), "-cert_chain",
             "inter.pem", "-status_file", str(staple), "-quiet"],
            cwd=pki.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("openssl s_server did not start") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> StapleServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
