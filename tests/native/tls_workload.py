"""Exercise every tightbind.tls path once: run under valgrind by test_tls_native.py.

    python tls_workload.py PKI_DIR PASSWORD [ROUNDS]

PKI_DIR holds the files helpers.pki.make_pki() writes; the TLS server is Python's ssl.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

from tightbind import tls
from tightbind.tls import crypto, doctor


def serve_once(listener: socket.socket, context: ssl.SSLContext) -> None:
    conn, _ = listener.accept()
    conn.settimeout(20)
    with context.wrap_socket(conn, server_side=True) as tls_conn:
        for _ in range(100):
            data = tls_conn.recv(65536)
            if not data:
                break
            tls_conn.sendall(data)


def exercise_crypto(pki: Path, password: str) -> None:
    """Every C function behind tightbind.tls.crypto once, failures included."""
    read = lambda name: (pki / name).read_bytes()
    pem = crypto.FILETYPE_PEM
    p12 = crypto.load_pkcs12(read("aes.p12"), password.encode())
    p12.set_friendlyname(b"workload")
    again = crypto.load_pkcs12(p12.export(b"pw", iter=10, maciter=2), b"pw")
    key = again.get_privatekey()
    assert key is not None and key.check()
    for filetype in (pem, crypto.FILETYPE_ASN1, crypto.FILETYPE_TEXT):
        crypto.dump_privatekey(filetype, key)
    encrypted = crypto.dump_privatekey(pem, key, "aes-128-cbc", lambda writing: b"p\0w")
    crypto.load_privatekey(pem, encrypted, lambda writing: b"p\0w")
    for bad in (b"wrong", None):
        try:
            crypto.load_privatekey(pem, encrypted, bad)
        except crypto.Error:
            pass
    crypto.load_privatekey(crypto.FILETYPE_ASN1, crypto.dump_privatekey(crypto.FILETYPE_ASN1, key))
    crypto.load_privatekey(pem, read("ec.key"))
    public = crypto.load_publickey(pem, crypto.dump_publickey(pem, key))
    crypto.load_publickey(crypto.FILETYPE_ASN1, crypto.dump_publickey(crypto.FILETYPE_ASN1, public))
    for key_type in (crypto.TYPE_RSA, crypto.TYPE_DSA):
        crypto.PKey().generate_key(key_type, 1024)
    crypto.get_elliptic_curves()

    cert = crypto.X509()
    cert.set_version(2)
    cert.set_serial_number(2**100)
    cert.get_serial_number()
    subject = cert.get_subject()
    subject.CN = "workload"
    subject.O = b"org"
    cert.set_issuer(subject)
    cert.set_subject(crypto.load_certificate(pem, read("leaf.pem")).get_subject())
    cert.set_notBefore(b"20200101000000Z")
    cert.gmtime_adj_notAfter(3600)
    cert.get_notBefore(), cert.get_notAfter(), cert.has_expired()
    cert.set_pubkey(key)
    cert.add_extensions([crypto.X509Extension(b"subjectAltName", False, "DNS:a,IP:10.0.0.1"),
                         crypto.X509Extension(b"subjectKeyIdentifier", False, b"hash",
                                              subject=cert)])
    cert.sign(key, "sha256")
    cert.get_pubkey(), cert.digest("sha256"), cert.get_signature_algorithm()
    crypto.dump_certificate(crypto.FILETYPE_TEXT, cert)
    for i in range(cert.get_extension_count()):
        ext = cert.get_extension(i)
        str(ext), ext.get_data(), ext.get_short_name(), ext.get_critical()
    name = crypto.X509Name(cert.get_subject())
    name.get_components(), name.der(), name.hash(), repr(name), name.CN, name == subject
    leaf = crypto.load_certificate(pem, read("leaf.pem"))
    for i in range(leaf.get_extension_count()):
        str(leaf.get_extension(i))
    failures = (lambda: crypto.X509().get_pubkey(),
                lambda: crypto.X509Extension(b"madeUp", False, b"x"),
                lambda: setattr(name, "C", "too long"),
                lambda: crypto.X509().set_notAfter(b"never"),
                lambda: cert.digest("no-such-digest"),
                lambda: cert.get_extension(99),
                lambda: crypto.load_certificate(pem, b"junk"),
                lambda: crypto.dump_privatekey(pem, key, "no-such-cipher", b"x"),
                lambda: crypto.load_pkcs12(read("aes.p12"), b"wrong"))
    for fail in failures:
        try:
            fail()
        except (crypto.Error, IndexError, ValueError):
            pass
    exercise_requests(pki, key)


def exercise_requests(pki: Path, key: crypto.PKey) -> None:
    """Every C function of csrc/tls_req.c once, failures included."""
    pem, der = crypto.FILETYPE_PEM, crypto.FILETYPE_ASN1
    req = crypto.X509Req()
    req.get_subject().CN = "workload"
    req.set_pubkey(key)
    req.add_extensions([crypto.X509Extension(b"basicConstraints", True, b"CA:FALSE")])
    req.add_extensions([crypto.X509Extension(b"keyUsage", False, b"digitalSignature")])
    assert len(req.get_extensions()) == 2
    req.sign(key, "sha256")
    assert req.verify(req.get_pubkey())
    for filetype in (pem, der, crypto.FILETYPE_TEXT):
        crypto.dump_certificate_request(filetype, req)
    crypto.load_certificate_request(der, crypto.dump_certificate_request(der, req))
    spki = tls.SignedPublicKey()
    spki.set_public_key(key)
    spki.sign(key, "sha256")
    again = tls.SignedPublicKey(spki.b64_encode())
    assert again.verify(again.public_key())
    signature = tls.sign_data(key, b"data", "sha256")
    tls.verify_signature(key, signature, b"data", "sha256")
    other = crypto.PKey()
    other.generate_key(crypto.TYPE_RSA, 1024)
    failures = (lambda: tls.verify_signature(key, signature, b"other", "sha256"),
                lambda: tls.sign_data(key, b"x", "no-such-digest"),
                lambda: req.verify(other),
                lambda: spki.verify(other),
                lambda: tls.SignedPublicKey(b"not base64 spki"),
                lambda: crypto.load_certificate_request(pem, b"junk"),
                lambda: tls.load_pkcs7(der, b"junk"))
    for fail in failures:
        try:
            fail()
        except (crypto.Error, ValueError):
            pass


def revocation_files(pki: Path) -> tuple[bytes, bytes]:
    """An OCSP response saying the leaf is revoked and a CRL listing it, made by the
    openssl command (as the inter CA) in the current folder."""
    leaf = tls.load_certificate(tls.FILETYPE_PEM, (pki / "leaf.pem").read_bytes())
    serial = f"{leaf.serial_number:X}"
    serial = "0" * (len(serial) % 2) + serial
    Path("index.txt").write_text(f"R\t301231000000Z\t250101000000Z,keyCompromise\t{serial}"
                                 "\tunknown\t/CN=localhost\n")
    Path("ca.cnf").write_text("[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\n"
                              "crlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n")
    Path("crlnumber").write_text("1000\n")
    openssl = ["openssl", "ocsp", "-index", "index.txt", "-CA", str(pki / "inter.pem"),
               "-rsigner", str(pki / "inter.pem"), "-rkey", str(pki / "inter.key"),
               "-issuer", str(pki / "inter.pem"), "-cert", str(pki / "leaf.pem"),
               "-respout", "ocsp.der", "-ndays", "7"]
    subprocess.run(openssl, capture_output=True, check=True, timeout=60)
    crl = subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-gencrl", "-keyfile",
                          str(pki / "inter.key"), "-cert", str(pki / "inter.pem")],
                         capture_output=True, check=True, timeout=60).stdout
    return Path("ocsp.der").read_bytes(), crl


def exercise_revocation(pki: Path, ocsp: bytes, crl: bytes) -> None:
    """The revocation shim (csrc/tls_revoke.c): responses, CRLs, requests, must-staple."""
    certs = tls.load_certificates((pki / "leaf_chain.pem").read_bytes())
    leaf, inter = certs
    status = tls.check_ocsp_response(ocsp, leaf, inter, untrusted=certs,
                                     cafile=pki / "root.pem")
    assert status.status == "revoked" and status.signature == "ok", status
    assert tls.check_crl(crl, leaf, inter).status == "revoked"
    assert tls.check_ocsp_response(ocsp, leaf, leaf).status == "no-answer"
    tls.ocsp_request(leaf, inter)
    assert not tls.must_staple(leaf)
    for bad in (b"", ocsp[:50], ocsp[:-1] + b"\0", crl[:100], b"\x30\x03\x0a\x01\x03"):
        for check in (lambda d: tls.check_ocsp_response(d, leaf, inter),
                      lambda d: tls.check_crl(d, leaf, inter)):
            try:
                check(bad)
            except tls.DecodeError:
                pass


def exercise_stores(pki: Path, crl_pem: bytes) -> None:
    """Trust stores and CRLs (csrc/tls_store.c, csrc/tls_crl.c), failures included."""
    leaf, inter = tls.load_certificates((pki / "leaf_chain.pem").read_bytes())
    root = tls.load_certificate(tls.FILETYPE_PEM, (pki / "root.pem").read_bytes())
    inter_key = tls.load_privatekey(tls.FILETYPE_PEM, (pki / "inter.key").read_bytes())
    crl = tls.load_crl(tls.FILETYPE_PEM, crl_pem)
    built = tls.build_crl(inter, inter_key, [tls.RevokedCertificate(
        leaf.serial_number, None, "keyCompromise"), tls.RevokedCertificate(2**200, None)],
        crl_number=7)
    for made in (crl, built, tls.CRL.from_der(built.der)):
        assert made.find(leaf.serial_number) is not None and made.pem and made.to_text()
    store = tls.TrustStore([root], crls=[crl], check_crls="leaf", depth=5)
    for call in (lambda: store.verify(leaf, [inter]),
                 lambda: tls.TrustStore([root]).verify(leaf, [inter], crls=[built],
                                                       check_crls="all"),
                 lambda: tls.TrustStore([root]).verify(leaf, hostname="x.example")):
        try:
            call()
        except tls.CertificateVerifyError as exc:
            assert exc.reason
    store.flags = tls.VerifyFlags.PARTIAL_CHAIN
    store.set_time(1.7e9)
    store.set_time(None)
    tls.TrustStore(cafile=pki / "root.pem").verify(leaf, [inter], hostname="localhost")
    for bad in (lambda: tls.TrustStore(cafile=pki / "leaf.key"),
                lambda: tls.CRL.from_der(built.der[:-3]), lambda: tls.CRL.from_pem(b"junk")):
        try:
            bad()
        except tls.TlsError:
            pass
    # The crypto face: X509Store/X509StoreContext, CRL and Revoked edited field by field.
    x509_store = crypto.X509Store()
    x509_store.add_cert(root)
    x509_store.add_crl(crypto.load_crl(crypto.FILETYPE_PEM, crl_pem))
    x509_store.set_flags(crypto.X509StoreFlags.CRL_CHECK)
    try:
        crypto.X509StoreContext(x509_store, leaf, [inter]).get_verified_chain()
    except crypto.X509StoreContextError as exc:
        assert exc.certificate is not None
    face = crypto.CRL()
    revoked = crypto.Revoked()
    revoked.set_serial(b"10b")
    revoked.set_rev_date(b"20240101000000Z")
    for reason in (b"keyCompromise", b"superseded", None):
        revoked.set_reason(reason)
    face.add_revoked(revoked)
    for entry in face.get_revoked() or ():
        entry.get_serial(), entry.get_rev_date(), entry.get_reason()
    face.set_lastUpdate(b"20240101000000Z")
    face.set_nextUpdate(b"20340101000000Z")
    face.sign(inter, crypto.load_privatekey(crypto.FILETYPE_PEM, (pki / "inter.key").read_bytes()),
              b"sha256")
    assert face.get_issuer().CN == inter.subject.CN
    for filetype in (crypto.FILETYPE_PEM, crypto.FILETYPE_ASN1, crypto.FILETYPE_TEXT):
        crypto.dump_crl(filetype, face)
    for fail in (lambda: revoked.set_serial(b"zz"), lambda: revoked.set_rev_date(b"x"),
                 lambda: face.sign(inter, crypto.PKey(), b"sha256"),
                 lambda: crypto.load_crl(crypto.FILETYPE_ASN1, b"\x30\x03")):
        try:
            fail()
        except (crypto.Error, ValueError):
            pass


def main() -> None:
    pki, password = Path(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    read = lambda name: (pki / name).read_bytes()
    p7 = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile",
                         str(pki / "leaf_chain.pem"), "-outform", "DER"],
                        capture_output=True, check=True, timeout=60).stdout
    ocsp, crl = revocation_files(pki)
    for _ in range(rounds):
        exercise_revocation(pki, ocsp, crl)
        assert tls.load_pkcs7(tls.FILETYPE_ASN1, p7).type_name == "pkcs7-signedData"
        exercise_stores(pki, crl)
        for name in ("aes", "legacy", "empty", "nokey", "plain"):
            p12 = tls.load_pkcs12(read(f"{name}.p12"), None if name == "empty" else password)
            for cert in [c for c in [p12.certificate] if c] + list(p12.ca_certificates):
                cert.to_dict()
                assert cert.public_key_info["bits"] > 0
                cert.fingerprint()
            if p12.private_key is not None:
                text = tls.dump_privatekey(tls.FILETYPE_PEM, p12.private_key, "aes-128-cbc", "pw")
                tls.load_privatekey(tls.FILETYPE_PEM, text, "pw")
                tls.create_pkcs12(p12.private_key, p12.certificate, p12.ca_certificates,
                                  passphrase="x", legacy=name == "legacy")
                for encryption in ("aes-256-cbc", "3des"):  # the writer's options
                    made = tls.create_pkcs12(
                        p12.private_key, p12.certificate, p12.ca_certificates, "x", b"n\xe9",
                        encryption=encryption, iterations=3, mac_hash="sha512",
                        ca_friendly_names=[b"ca\xff"] * len(p12.ca_certificates))
                    tls.load_pkcs12(made, "x")
                    try:
                        tls.load_pkcs12(made, "wrong")
                    except tls.WrongPassword:
                        pass
        for bad, pw in ((b"", "x"), (b"\x30\x03\x02\x01", "x"), (read("aes.p12")[:300], "x"),
                        (read("aes.p12"), "wrong"), (read("nomac.p12"), password)):
            try:
                tls.load_pkcs12(bad, pw)
            except tls.TlsError:
                pass
        tls.load_pkcs12(read("nomac.p12"), password, allow_missing_mac=True)
        exercise_crypto(pki, password)
        for data in (b"", b"junk", read("leaf.key")):
            try:
                tls.load_certificate(tls.FILETYPE_PEM, data)
            except tls.TlsError:
                pass
        try:
            tls.load_privatekey(tls.FILETYPE_PEM, tls.dump_privatekey(
                tls.FILETYPE_PEM, tls.load_privatekey(tls.FILETYPE_PEM, read("ec.key")),
                "aes-128-cbc", "pw"))
        except tls.PasswordRequired:
            pass
        certs = tls.load_certificates(read("leaf_chain.pem"))
        # Reader certificates: decoded without their full parse, which is made on use.
        reader = [tls.load_certificate(tls.FILETYPE_PEM, c.pem) for c in certs]
        assert [c.to_dict() for c in reader] == [c.to_dict() for c in certs]
        tls.verify_chain(reader[0], reader[1:], cafile=pki / "root.pem")
        tls.verify_chain(certs[0], certs[1:], cafile=pki / "root.pem", hostname="localhost")
        for kwargs in ({"hostname": "wrong.example"}, {}):
            try:
                tls.verify_chain(certs[0], [] if not kwargs else certs[1:],
                                 cafile=pki / "root.pem", **kwargs)
            except tls.CertificateVerifyError:
                pass
        # The chain doctor's native calls: PKCS#7 (caIssuers answers), issuer and name checks.
        assert [c.subject.CN for c in doctor._parse_issuers(p7, "p7")] == [
            c.subject.CN for c in certs]
        for bad in (b"", b"\x30\x03\x02\x01\x00", p7[:100], p7[:-1]):
            try:
                doctor._parse_issuers(bad, "bad")
            except doctor.FetchError:
                pass
        assert doctor._issued(certs[1], certs[0]) and not doctor._issued(certs[0], certs[1])
        assert doctor._matches_host(certs[0], "localhost")
        assert not doctor._matches_host(certs[0], "10.1.2.3")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / "leaf_chain.pem"), str(pki / "leaf.key"))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    port = listener.getsockname()[1]
    for _ in range(2):
        server = threading.Thread(target=serve_once, args=(listener, context), daemon=True)
        server.start()
        with tls.TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=60),
                               "localhost", cafile=pki / "root.pem",
                               request_ocsp=True) as conn:
            assert conn.stapled_ocsp() is None  # Python's ssl staples nothing
            conn.sendall(b"x" * 50_000)
            received = 0
            while received < 50_000:
                received += len(conn.recv(65536))
            conn.getpeercertchain()
        server.join(60)
    listener.close()
    print("workload done")


if __name__ == "__main__":
    main()
