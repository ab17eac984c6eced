"""The pyOpenSSL side of ``tightbind bench tls``, run as a script by another interpreter.

pyOpenSSL 23.2 needs cryptography < 42 (48 lacks the bindings its ``load_pkcs12`` calls),
so it runs in a venv of its own; this script imports only pyOpenSSL and the standard
library.  It reads one JSON request per line on stdin and answers one JSON line:

    {"op": "setup", "folder": ..., "password": ...}      -> {"versions": {...}}
    {"op": "calibrate", "task": ..., "min_time": 0.2}     -> {"repeats": n}
    {"op": "time", "task": ..., "repeats": n}             -> {"seconds": per call}

The tasks are the same calls the benchmark times in tightbind.tls.crypto, on the same
files; the timing is done here, so the pipe costs nothing.
"""

import gc
import json
import sys
import time
import warnings


def tasks(folder, password):
    from OpenSSL import crypto

    with open(f"{folder}/aes.p12", "rb") as fh:
        aes = fh.read()
    with open(f"{folder}/export3des.p12", "rb") as fh:
        des = fh.read()
    with open(f"{folder}/leaf.pem", "rb") as fh:
        pem = fh.read()
    loaded = crypto.load_pkcs12(aes, password)
    return {
        "load_pkcs12 aes": lambda: crypto.load_pkcs12(aes, password),
        "load_pkcs12 3des": lambda: crypto.load_pkcs12(des, password),
        "load_certificate + get_subject": lambda: crypto.load_certificate(
            crypto.FILETYPE_PEM, pem).get_subject(),
        "PKCS12.export": lambda: loaded.export(password),
    }


def versions():
    import cryptography
    import OpenSSL
    from cryptography.hazmat.backends.openssl.backend import backend

    return {"pyOpenSSL": OpenSSL.__version__, "cryptography": cryptography.__version__,
            "OpenSSL": backend.openssl_version_text()}


def run(fn, repeats):
    gc.collect()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return time.perf_counter() - start


def main():
    warnings.simplefilter("ignore", DeprecationWarning)  # pyOpenSSL's own, for PKCS#12
    table = {}
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "setup":
            table = tasks(request["folder"], request["password"].encode())
            answer = {"versions": versions()}
        elif op == "calibrate":
            fn, repeats = table[request["task"]], 1
            fn()
            while run(fn, repeats) < request["min_time"] and repeats < 1 << 20:
                repeats *= 2
            answer = {"repeats": repeats}
        elif op == "time":
            repeats = request["repeats"]
            answer = {"seconds": run(table[request["task"]], repeats) / repeats}
        else:
            answer = {"error": f"unknown op {op!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
