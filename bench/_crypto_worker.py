"""One contender of ``tightbind bench tls``'s pyOpenSSL table, run as a script by another
interpreter: ``python _crypto_worker.py OpenSSL`` times pyOpenSSL's ``OpenSSL.crypto``,
``python _crypto_worker.py tightbind`` the stand-in ``tightbind.tls.crypto`` of that
interpreter's tightbind (the wheel, with the OpenSSL inside it).

pyOpenSSL 23.2 needs cryptography < 42 (48 lacks the bindings its ``load_pkcs12`` calls),
so it runs in a venv of its own; this script imports only the API it times and the
standard library.  It reads one JSON request per line on stdin and answers one JSON line:

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


def crypto_module(api):
    if api == "tightbind":
        from tightbind.tls import crypto
    else:
        from OpenSSL import crypto
    return crypto


def tasks(api, folder, password):
    crypto = crypto_module(api)
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
        **store_tasks(crypto, folder),
    }


def store_tasks(crypto, folder):
    """Chain verification with CRL checks: the same store, chain and CRLs on each side."""
    def load(name, loader):
        with open(f"{folder}/{name}", "rb") as fh:
            return loader(crypto.FILETYPE_PEM, fh.read())

    root, inter, leaf = (load(name, crypto.load_certificate)
                         for name in ("root.pem", "inter.pem", "vleaf.pem"))
    store = crypto.X509Store()
    store.add_cert(root)
    for name in ("root.crl.pem", "inter.crl.pem"):
        store.add_crl(load(name, crypto.load_crl))
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK | crypto.X509StoreFlags.CRL_CHECK_ALL)
    return {"X509StoreContext.verify_certificate": lambda: crypto.X509StoreContext(
        store, leaf, [inter]).verify_certificate()}


def versions(api):
    if api == "tightbind":
        import tightbind
        from tightbind import tls

        return {"tightbind": tightbind.__version__, "OpenSSL": tls.openssl_version()}
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
    api = sys.argv[1] if len(sys.argv) > 1 else "OpenSSL"
    warnings.simplefilter("ignore", DeprecationWarning)  # pyOpenSSL's own, for PKCS#12
    table = {}
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "setup":
            table = tasks(api, request["folder"], request["password"].encode())
            answer = {"versions": versions(api)}
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
