"""``tightbind chain HOST[:PORT]``: a server's certificate chain, readable.

What ``openssl s_client -showcerts`` is used for: every certificate the server sent (subject,
issuer, validity, SANs, SHA-256 fingerprint, PEM) and whether the chain verified, with
OpenSSL's reason when it did not.  Exit status 0 when it verified, 1 when it did not,
2 when no chain was fetched.

With ``--check``: what is wrong with the chain (:func:`tightbind.tls.diagnose`), one
finding per problem; exit status 0 when clean, 1 when a finding is at or over
``--fail-on`` (default: error), 2 when no chain was fetched.  The stapled OCSP response
is always checked; ``--ocsp`` and ``--crl`` also ask the responders and fetch the CRLs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

HELP = "show a TLS server's certificate chain, as sent and as verified"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="HOST[:PORT]",
                        help="server to ask (port 443 by default; [v6]:port for IPv6)")
    parser.add_argument("--servername", metavar="NAME",
                        help="SNI name to send and check (default: HOST)")
    parser.add_argument("--cafile", metavar="F", help="trusted roots (default: system store)")
    parser.add_argument("--capath", metavar="DIR", help="hashed directory of trusted roots")
    parser.add_argument("--timeout", type=seconds, default=10.0, metavar="S",
                        help="seconds for the connect and for the handshake (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--check", action="store_true",
                        help="diagnose the chain: order, missing intermediates (fetched "
                             "from the caIssuers URL), trust, dates, weak signatures and "
                             "keys, the host name, revocation (the stapled OCSP response, "
                             "must-staple)")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                        help="with --check: exit 1 for findings this severe or worse "
                             "(default error)")
    parser.add_argument("--expiry-days", type=int, default=30, metavar="N",
                        help="with --check: warn about certificates expiring within N "
                             "days (default 30)")
    parser.add_argument("--no-fetch", action="store_true",
                        help="with --check: do not fetch missing intermediates")
    parser.add_argument("--ocsp", action="store_true",
                        help="with --check: also ask each certificate's OCSP responder "
                             "(the stapled response is always checked)")
    parser.add_argument("--crl", action="store_true",
                        help="with --check: also fetch and check each certificate's CRL")


def seconds(text: str) -> float:
    """A --timeout value: a number of seconds above 0 and at most a year (argparse says
    why not)."""
    from tightbind._timeout import check_timeout

    try:
        value = check_timeout(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "timeout" in str(exc) else
                                         f"not a number of seconds: {text!r}") from None
    assert value is not None  # check_timeout returns None only for None
    return value


def parse_target(target: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 literal -> (host, port)."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif target.count(":") == 1:
        host, _, port_text = target.partition(":")
    else:
        host, port_text = target, ""
    if not host:
        raise ValueError(f"no host in {target!r}")
    if not port_text:
        return host, 443
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port in {target!r}")
    return host, int(port_text)


def describe(cert: Any) -> dict[str, Any]:
    """The JSON-ready summary of one certificate."""
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "subject": str(cert.subject),
        "issuer": str(cert.issuer),
        "serial_number": f"{cert.serial_number:X}",
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "expired": cert.not_after < now,
        "subject_alt_names": [[kind, value if isinstance(value, str) else str(value)]
                              for kind, value in cert.subject_alt_names],
        "public_key": cert.public_key_info,
        "signature_algorithm": cert.signature_algorithm,
        "sha256_fingerprint": cert.fingerprint("sha256"),
        "pem": cert.pem,
        "decoded": cert.to_dict(),
    }


def run(args: argparse.Namespace) -> int:
    from tightbind import tls

    try:
        host, port = parse_target(args.target)
    except ValueError as exc:
        print(f"tightbind chain: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return _check(args, host, port)
    try:
        chain = tls.fetch_chain(host, port, server_hostname=args.servername, cafile=args.cafile,
                                capath=args.capath, timeout=args.timeout)
    except (tls.TlsError, ValueError) as exc:
        print(f"tightbind chain: {exc}", file=sys.stderr)
        return 2
    name = args.servername or host
    if args.json:
        json.dump({
            "host": host, "port": port, "server_hostname": name,
            "protocol": chain.protocol, "cipher": chain.cipher,
            "verified": chain.trusted, "verify_error": chain.verify_error,
            "verify_code": chain.verify_code,
            "unverified": [describe(c) for c in chain.unverified],
            "verified_chain": [describe(c) for c in chain.verified],
        }, sys.stdout, indent=2)
        print()
        return 0 if chain.trusted else 1

    print(f"{host}:{port} (SNI {name}): {chain.protocol}, {chain.cipher}")
    if chain.trusted:
        print(f"verify: OK, {len(chain.verified)} certificates to a trusted root")
    else:
        print(f"verify: FAILED: {chain.verify_error} (X509_V error {chain.verify_code})")
    print(f"\nsent by the server ({len(chain.unverified)}):")
    for index, cert in enumerate(chain.unverified):
        info = describe(cert)
        print(f"\n[{index}] subject: {info['subject']}")
        print(f"    issuer:  {info['issuer']}")
        print(f"    valid:   {info['not_before']} to {info['not_after']}"
              + ("  EXPIRED" if info["expired"] else ""))
        if info["subject_alt_names"]:
            print("    SANs:    " + ", ".join(f"{k}:{v}" for k, v in info["subject_alt_names"]))
        print(f"    sha256:  {info['sha256_fingerprint']}")
        print(cert.pem, end="")
    if chain.verified:
        print("\nverified chain: " + " -> ".join(str(c.subject) for c in chain.verified))
    return 0 if chain.trusted else 1


def _check(args: argparse.Namespace, host: str, port: int) -> int:
    from tightbind import tls

    try:
        report = tls.diagnose(host, port, servername=args.servername, cafile=args.cafile,
                              capath=args.capath, timeout=args.timeout,
                              expiry_days=args.expiry_days, fetch_missing=not args.no_fetch,
                              ocsp=args.ocsp, crl=args.crl)
    except (tls.TlsError, ValueError) as exc:
        print(f"tightbind chain: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(report.format())
    return 1 if report.fails(args.fail_on) else 0
