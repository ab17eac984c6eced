"""sslyze's side of ``tightbind bench tls``'s chain-diagnosis table, run as a script by the
interpreter of sslyze's own venv (sslyze ships its own OpenSSL in nassl and pins its own
cryptography).  It reads one JSON request per line on stdin and answers one JSON line:

    {"op": "setup", "port": ..., "cafile": ...}       -> {"versions": {...}, "findings": ...}
    {"op": "time", "repeats": n}                      -> {"seconds": per scan}

A scan is what ``sslyze --certinfo`` does for one server: the connectivity test, then the
certificate-info scan command (chain as sent, path validation against sslyze's trust
stores and the given CA file, OCSP stapling, must-staple, hostname match).
"""

import json
import sys
import warnings
from pathlib import Path

# The timing loop of the pyOpenSSL worker beside this file (this script's folder is first
# on sys.path; sslyze's venv has no tightbind to import it from).
from _crypto_worker import run


def scanner(port, cafile):
    from sslyze import (
        CertificateInfoExtraArgument,
        ScanCommand,
        ScanCommandsExtraArguments,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
    )

    location = ServerNetworkLocation(hostname="localhost", port=port, ip_address="127.0.0.1")
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(cafile)))

    def scan():
        request = ServerScanRequest(server_location=location,
                                    scan_commands={ScanCommand.CERTIFICATE_INFO},
                                    scan_commands_extra_arguments=extra)
        engine = Scanner()
        engine.queue_scans([request])
        results = list(engine.get_results())
        info = results[0].scan_result.certificate_info
        if info.status.value != "COMPLETED":
            raise RuntimeError(f"sslyze scan did not complete: {info.error_trace}")
        deployment = info.result.certificate_deployments[0]
        return {"sent": len(deployment.received_certificate_chain),
                "errors": [str(r.validation_error) for r in deployment.path_validation_results
                           if r.trust_store.name == "Supplied CA file"
                           and not r.was_validation_successful],
                "trusted_by_ca_file": any(
                    r.was_validation_successful for r in deployment.path_validation_results
                    if r.trust_store.name == "Supplied CA file")}

    return scan


def main():
    warnings.simplefilter("ignore")  # cryptography's, about certificates in sslyze's stores
    scan = None
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "setup":
            from sslyze.__version__ import __version__

            scan = scanner(request["port"], request["cafile"])
            answer = {"versions": {"sslyze": __version__}, "findings": scan()}
        elif request["op"] == "time":
            answer = {"seconds": run(scan, request["repeats"]) / request["repeats"]}
        else:
            answer = {"error": f"unknown op {request['op']!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
