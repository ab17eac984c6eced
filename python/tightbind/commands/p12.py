"""``tightbind p12 FILE [--out DIR]``: what a .p12/.pfx holds, and its contents as PEM.

The password never comes from the command line (it would show in ``ps`` and shell
history): it is read from an environment variable (``TIGHTBIND_P12_PASSWORD`` unless
``--env-var`` names another), else asked for on the terminal, else empty.  (No option
starts with ``--password``, so argparse cannot take one as an abbreviation.)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

HELP = "summarise a PKCS#12 (.p12/.pfx) file and write its key and certificates as PEM"
DEFAULT_ENV = "TIGHTBIND_P12_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .p12/.pfx file")
    parser.add_argument("--out", metavar="DIR",
                        help="write key.pem (mode 0600), cert.pem and ca.pem into DIR")
    parser.add_argument("--env-var", metavar="NAME", default=DEFAULT_ENV,
                        help=f"environment variable holding the password (default {DEFAULT_ENV})")
    parser.add_argument("--allow-missing-mac", action="store_true",
                        help="open a file that has no integrity MAC")
    parser.add_argument("--force", action="store_true", help="overwrite files in DIR")


def read_password(args: argparse.Namespace) -> str:
    value = os.environ.get(args.env_var)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {args.file}: ")
    return ""


def write(path: Path, data: bytes, force: bool, mode: int = 0o644) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    from tightbind import tls

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"tightbind p12: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        p12 = tls.load_pkcs12(data, read_password(args),
                              allow_missing_mac=args.allow_missing_mac)
    except tls.WrongPassword as exc:
        print(f"tightbind p12: {exc}\n(the password is read from ${args.env_var}, or "
              "asked for when run in a terminal)", file=sys.stderr)
        return 2
    except tls.TlsError as exc:
        print(f"tightbind p12: {exc}", file=sys.stderr)
        return 2

    key = p12.private_key
    print(f"{args.file}: PKCS#12, integrity MAC {'present' if p12.has_mac else 'absent'}")
    print(f"private key: {f'{key.key_type} {key.bits()} bits' if key else 'none'}")
    certs = ([("certificate", p12.certificate)] if p12.certificate else []) + \
        [(f"CA certificate {i + 1}", c) for i, c in enumerate(p12.ca_certificates)]
    for label, cert in certs:
        print(f"{label}: {cert.subject}")
        print(f"    issuer:        {cert.issuer}")
        print(f"    valid:         {cert.not_before.isoformat()} to "
              f"{cert.not_after.isoformat()}{'  EXPIRED' if cert.has_expired() else ''}")
        if cert.friendly_name is not None:
            print(f"    friendly name: {cert.friendly_name}")
        print(f"    sha256:        {cert.fingerprint()}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        try:
            if key is not None:
                write(out / "key.pem", tls.dump_privatekey(tls.FILETYPE_PEM, key), args.force,
                      0o600)
            if p12.certificate is not None:
                write(out / "cert.pem", tls.dump_certificate(tls.FILETYPE_PEM, p12.certificate),
                      args.force)
            if p12.ca_certificates:
                write(out / "ca.pem", b"".join(tls.dump_certificate(tls.FILETYPE_PEM, c)
                                               for c in p12.ca_certificates), args.force)
        except FileExistsError as exc:
            print(f"tightbind p12: {exc.filename} exists (use --force to overwrite)",
                  file=sys.stderr)
            return 2
    return 0
