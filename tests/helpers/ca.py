"""A small CA built with tightbind's own API for the store and CRL tests: a root, an
intermediate and a leaf (EC P-256 keys), made with :mod:`tightbind.tls.crypto`'s ``X509``,
and the ``openssl verify`` oracle run on the same files."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from tightbind.tls import crypto

DAY = 86400


@dataclass
class Ca:
    root: crypto.X509
    root_key: crypto.PKey
    inter: crypto.X509
    inter_key: crypto.PKey
    leaf: crypto.X509
    leaf_key: crypto.PKey


def _key() -> crypto.PKey:
    return crypto.PKey.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()))


def make_cert(cn: str, serial: int, key: crypto.PKey, issuer: crypto.X509 | None,
              issuer_key: crypto.PKey, *, ca: bool, days: int = 30) -> crypto.X509:
    cert = crypto.X509()
    cert.set_version(2)
    cert.set_serial_number(serial)
    cert.get_subject().CN = cn
    cert.get_subject().O = "tightbind store tests"
    cert.set_issuer(issuer.get_subject() if issuer is not None else cert.get_subject())
    cert.gmtime_adj_notBefore(-DAY)
    cert.gmtime_adj_notAfter(days * DAY)
    cert.set_pubkey(key)
    extensions = [crypto.X509Extension(b"basicConstraints", True,
                                       b"CA:TRUE" if ca else b"CA:FALSE")]
    if ca:
        extensions.append(crypto.X509Extension(b"keyUsage", True, b"keyCertSign,cRLSign"))
    cert.add_extensions(extensions)
    cert.sign(issuer_key, "sha256")
    return cert


def make_ca() -> Ca:
    root_key, inter_key, leaf_key = _key(), _key(), _key()
    root = make_cert("store test root", 0x1001, root_key, None, root_key, ca=True)
    inter = make_cert("store test intermediate", 0x2002, inter_key, root, root_key, ca=True)
    leaf = make_cert("store test leaf", 0x3003, leaf_key, inter, inter_key, ca=False)
    return Ca(root, root_key, inter, inter_key, leaf, leaf_key)


def openssl_verify(folder: Path, root: Path, untrusted: Path | None, crls: Path | None,
                   leaf: Path, *, check: str | None) -> tuple[int, int]:
    """``openssl verify`` on the files: (0, -1) when it verifies, else OpenSSL's (error
    code, depth) for the first error."""
    args = ["openssl", "verify", "-CAfile", str(root)]
    if untrusted is not None:
        args += ["-untrusted", str(untrusted)]
    if crls is not None:
        args += ["-CRLfile", str(crls)]
    if check is not None:
        args.append({"leaf": "-crl_check", "all": "-crl_check_all"}[check])
    done = subprocess.run([*args, str(leaf)], capture_output=True, text=True, cwd=folder,
                          timeout=60, check=False)
    if done.returncode == 0:
        return 0, -1
    found = re.search(r"error (\d+) at (\d+) depth lookup", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return int(found.group(1)), int(found.group(2))
