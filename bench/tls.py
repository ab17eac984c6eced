"""``bash scripts/bench tls``: tightbind's TLS tables (``tightbind.bench.tls``) with
the contests against other packages: PKCS#12 loads and certificate decodes against
``cryptography`` (when installed); the pyOpenSSL API (``tightbind.tls.crypto``) against
pyOpenSSL 23.2.0 itself; a whole chain diagnosis against sslyze (in its own venv).

Every input is made here with the ``openssl`` command in a temporary folder; the server
is ``openssl s_server`` on 127.0.0.1.  pyOpenSSL 23.2 cannot share a venv with
cryptography 48 (it needs cryptography < 42), so it runs in interpreters of its own,
named by environment variables (``scripts/bench`` makes them):
``TIGHTBIND_BENCH_PYOPENSSL`` (pyOpenSSL with the cryptography 41 wheel and the OpenSSL
bundled in it) and ``TIGHTBIND_BENCH_PYOPENSSL_SYSTEM`` (pyOpenSSL on Debian's
cryptography, linked to the system OpenSSL tightbind uses).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench._crypto_worker import store_tasks
from bench._venvs import venv_python, wheel_python
from tightbind.bench._report import Table
from tightbind.bench.tls import (
    PASSWORD,
    add_headlines,
    chain_fetch,
    inputs_folder,
    openssl,
    p12_and_decode,
    rounds_for,
    rows,
    serve,
    versions,
)

__all__ = ["run", "versions"]


def _make_store_inputs(folder: Path, revoked: int = 1000) -> None:
    """An intermediate under the root and a leaf under it, and a CRL from each CA (the
    intermediate's lists ``revoked`` other serials), for the verification row."""
    (folder / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\n"
                                   "keyUsage=critical,keyCertSign,cRLSign\n")
    for name, subject, issuer, extra in (
            ("inter", "/CN=bench intermediate", "root", ("-extfile", "ca.ext")),
            ("vleaf", "/CN=localhost", "inter", ())):
        openssl(folder, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem",
                 "-CAkey", f"{issuer}.key", "-set_serial", str(0x7000 + len(name)), "-out",
                 f"{name}.pem", "-days", "2", *extra)
    for ca, count in (("root", 10), ("inter", revoked)):
        (folder / f"{ca}.index").write_text("".join(
            f"R\t301231000000Z\t250101000000Z,keyCompromise\t{0x100000 + i:X}\tunknown\t"
            f"/CN=revoked {i}\n" for i in range(count)))
        (folder / f"{ca}.crlnumber").write_text("1000\n")
        (folder / f"{ca}.cnf").write_text(
            f"[ca]\ndefault_ca=c\n[c]\ndatabase={ca}.index\ncrlnumber={ca}.crlnumber\n"
            "default_md=sha256\ndefault_crl_days=2\n")
        openssl(folder, "ca", "-config", f"{ca}.cnf", "-gencrl", "-keyfile", f"{ca}.key",
                 "-cert", f"{ca}.pem", "-out", f"{ca}.crl.pem")


def _cryptography() -> Any:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        return None
    return x509, pkcs12


def _p12_and_decode(folder: Path, rounds: int, min_time: float) -> Table:
    """tightbind's PKCS#12 and decode table with cryptography's calls interleaved."""
    from tightbind import tls

    peers = _cryptography()
    if peers is None:
        table = p12_and_decode(folder, rounds, min_time)
        table.notes.append("cryptography is not installed: its rows are missing")
        return table
    x509, pkcs12 = peers

    def cryptography_load(data: bytes) -> Callable[[], Any]:
        return partial(pkcs12.load_key_and_certificates, data, PASSWORD.encode())

    def cryptography_decode(pem: bytes) -> Callable[[], Any]:
        def decode() -> Any:
            cert = x509.load_pem_x509_certificate(pem)
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
            crl = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
            return (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                    cert.serial_number, cert.not_valid_before_utc, cert.not_valid_after_utc,
                    list(san.value), list(aia.value), list(crl.value), cert.version)
        return decode

    table = p12_and_decode(folder, rounds, min_time,
                           load_peers={"cryptography": cryptography_load},
                           decode_peers={"cryptography (same fields)": cryptography_decode})
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend

    table.notes.append(f"cryptography {cryptography.__version__} runs on its bundled "
                       f"{backend.openssl_version_text()}; tightbind on the system's "
                       f"{tls.openssl_version()}")
    table.notes.append("cryptography checks an RSA private key (primes) on every load, "
                       "tightbind does not: ec-aes.p12 (EC P-256 key) has no such check")
    return table


# ------------------------------------------------------------------ pyOpenSSL's API

_PYOPENSSL_PYTHONS = {
    "TIGHTBIND_BENCH_PYOPENSSL": "its own cryptography wheel",
    "TIGHTBIND_BENCH_PYOPENSSL_SYSTEM": "the system OpenSSL",
}
_PYOPENSSL_TASKS = {
    "load_pkcs12 aes": "load_pkcs12 aes.p12 (AES-256/PBKDF2, openssl pkcs12 -export)",
    "load_pkcs12 3des": "load_pkcs12 3DES .p12 (as PKCS12.export writes it)",
    "load_certificate + get_subject": "load_certificate(PEM) + get_subject()",
    "PKCS12.export": "PKCS12.export(passphrase) of the aes.p12 contents",
    "X509StoreContext.verify_certificate": "X509StoreContext(store, leaf, [intermediate])"
                                           ".verify_certificate(), CRL_CHECK_ALL, 2 CRLs "
                                           "(1000 + 10 entries)",
}


class _CryptoWorker:
    """Another interpreter timing ``api`` ("OpenSSL": pyOpenSSL, or "tightbind") through
    bench/_crypto_worker.py."""

    def __init__(self, python: str, folder: Path, api: str = "OpenSSL") -> None:
        worker = Path(__file__).with_name("_crypto_worker.py")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.api = api
        self.process = subprocess.Popen([python, str(worker), api], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        self.versions = self.ask(op="setup", folder=str(folder), password=PASSWORD)["versions"]

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.api} worker stopped")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(30)


def _local_batch(fn: Callable[[], Any]) -> Callable[[int], float]:
    def batch(repeats: int) -> float:
        gc.collect()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - start) / repeats
    return batch


def _calibrate(batch: Callable[[int], float], min_time: float) -> int:
    batch(1)
    repeats = 1
    while batch(repeats) * repeats < min_time and repeats < 1 << 20:
        repeats *= 2
    return repeats


def _interleaved_batches(contenders: dict[str, tuple[Callable[[int], float], int]],
                         rounds: int) -> dict[str, float]:
    """Median seconds per call; every round times one batch of each contender in turn
    (a batch in another process is timed there, so the pipe is not counted)."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (batch, repeats) in contenders.items():
            samples[name].append(batch(repeats))
    return {name: statistics.median(values) for name, values in samples.items()}


def _pyopenssl_api(folder: Path, rounds: int, min_time: float) -> Table:
    from tightbind.tls import crypto

    secret = PASSWORD.encode()
    aes = (folder / "aes.p12").read_bytes()
    pem = (folder / "leaf.pem").read_bytes()
    loaded = crypto.load_pkcs12(aes, secret)
    des = loaded.export(secret)
    (folder / "export3des.p12").write_bytes(des)
    ours: dict[str, Callable[[], Any]] = {
        "load_pkcs12 aes": lambda: crypto.load_pkcs12(aes, secret),
        "load_pkcs12 3des": lambda: crypto.load_pkcs12(des, secret),
        "load_certificate + get_subject": lambda: crypto.load_certificate(
            crypto.FILETYPE_PEM, pem).get_subject(),
        "PKCS12.export": lambda: loaded.export(secret),
        **store_tasks(crypto, folder),
    }
    table = Table("TLS: the pyOpenSSL API, tightbind.tls.crypto against pyOpenSSL 23.2.0 "
                  "(calls per second)", ["task", "contender", "per second", "speed vs tightbind"])
    workers: dict[str, _CryptoWorker] = {}
    in_wheel = wheel_python(table.notes)
    if in_wheel is not None:
        wheel = _CryptoWorker(str(in_wheel), folder, "tightbind")
        workers[f"tightbind wheel ({wheel.versions['OpenSSL'].split(' ')[1]})"] = wheel
        table.notes.append(f"tightbind wheel: {in_wheel}: tightbind "
                           f"{wheel.versions['tightbind']} on the {wheel.versions['OpenSSL']} "
                           "inside the wheel")
    for variable, kind in _PYOPENSSL_PYTHONS.items():
        python = os.environ.get(variable)
        if not python:
            table.notes.append(f"no pyOpenSSL on {kind}: {variable} is not set "
                               "(scripts/bench makes its venv)")
            continue
        worker = _CryptoWorker(python, folder)
        v = worker.versions
        workers[f"pyOpenSSL {v['pyOpenSSL']} (cryptography {v['cryptography']}, "
                f"{v['OpenSSL'].split(' ')[1]})"] = worker
        table.notes.append(f"pyOpenSSL on {kind}: {python}: cryptography "
                           f"{v['cryptography']} on {v['OpenSSL']}")
    try:
        for task, label in _PYOPENSSL_TASKS.items():
            contenders: dict[str, tuple[Callable[[int], float], int]] = {}
            batch = _local_batch(ours[task])
            contenders["tightbind"] = (batch, _calibrate(batch, min_time))
            for name, worker in workers.items():
                repeats = worker.ask(op="calibrate", task=task, min_time=min_time)["repeats"]

                def remote(n: int, worker: _CryptoWorker = worker, task: str = task) -> float:
                    return float(worker.ask(op="time", task=task, repeats=n)["seconds"])

                contenders[name] = (remote, repeats)
            table.rows += rows(label, _interleaved_batches(contenders, rounds))
    finally:
        for worker in workers.values():
            worker.close()
    from tightbind import tls

    table.notes.append(f"tightbind: tightbind.tls.crypto on the system's {tls.openssl_version()}"
                       "; interleaved rounds, each contender timed in its own process")
    table.notes.append("pyOpenSSL 23.2 needs cryptography < 42: its own venvs "
                       "(requirements/bench-pyopenssl.txt; Debian's python3-cryptography)")
    return table


SSLYZE = "sslyze==6.3.1"


def _diagnosis(folder: Path, rounds: int, min_time: float) -> Table:
    """A whole chain diagnosis of one loopback server: tightbind.tls.diagnose against
    sslyze's certificate-info scan, in sslyze's own venv."""
    from tightbind import tls

    table = Table("TLS: diagnose a server's chain on 127.0.0.1 (diagnoses per second)",
                  ["task", "contender", "per second", "speed vs tightbind"])
    server, port = serve(folder)
    cafile = str(folder / "root.pem")
    worker = None
    try:
        def doctor() -> Any:
            report = tls.diagnose("127.0.0.1", port, servername="localhost", cafile=cafile,
                                  timeout=30)
            if not report.path:
                raise RuntimeError(f"unexpected report: {report}")
            return report

        contenders: dict[str, tuple[Callable[[int], float], int]] = {}
        batch = _local_batch(doctor)
        contenders["tightbind"] = (batch, _calibrate(batch, min_time))
        python, why = venv_python("sslyze", [SSLYZE])
        if python is None:
            table.notes.append(f"could not install {SSLYZE}: {why}; its row is left out")
        else:
            script = Path(__file__).with_name("_sslyze_worker.py")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            worker = subprocess.Popen([str(python), str(script)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env)

            def ask(**request: Any) -> dict[str, Any]:
                assert worker is not None and worker.stdin and worker.stdout
                worker.stdin.write(json.dumps(request) + "\n")
                worker.stdin.flush()
                line = worker.stdout.readline()
                if not line:
                    raise RuntimeError("the sslyze worker stopped")
                answer: dict[str, Any] = json.loads(line)
                return answer

            setup = ask(op="setup", port=port, cafile=cafile)
            if setup["findings"] != {"sent": 2, "errors": [], "trusted_by_ca_file": True}:
                raise RuntimeError(f"sslyze saw another chain: {setup['findings']}")

            def remote(n: int) -> float:
                return float(ask(op="time", repeats=n)["seconds"])

            contenders[f"sslyze {setup['versions']['sslyze']} --certinfo (library)"] = (
                remote, _calibrate(remote, min_time))
        table.rows += rows("full chain diagnosis of one server",
                            _interleaved_batches(contenders, rounds))
    finally:
        if worker is not None:
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(30)
        server.kill()
        server.wait(10)
    table.notes.append("tightbind: diagnose() with the bench root as cafile (connect, "
                       "handshake asking for a staple, order, trust, validity, hostname; "
                       "no live OCSP or CRL); sslyze: one Scanner per scan with the "
                       "CERTIFICATE_INFO command and the same CA file (its connectivity "
                       "test, then the chain, validation against its trust stores and the "
                       "file, stapling, must-staple); each timed in its own process, "
                       "interleaved rounds")
    return table


def run(quick: bool) -> list[Table]:
    """tightbind's TLS tables with the contests against cryptography, pyOpenSSL and
    sslyze; ImportError when tightbind._tls is missing."""
    rounds, min_time = rounds_for(quick)
    with inputs_folder() as tmp:
        folder = Path(tmp)
        _make_store_inputs(folder)
        return [add_headlines(_p12_and_decode(folder, rounds, min_time)),
                add_headlines(_pyopenssl_api(folder, rounds, min_time)),
                add_headlines(chain_fetch(folder, rounds, min_time)),
                add_headlines(_diagnosis(folder, rounds, min_time))]
