"""The wheel's smoke check, run by every interpreter the wheel is installed for, native
or emulated, inside a Debian root or not (tests/packaging/test_wheel.py,
test_platforms.py).  It needs only the installed wheel, protobuf and Pillow, so it runs
where the whole test suite's requirements have no wheels yet (CPython 3.15, aarch64
under qemu).

    python wheel_smoke.py FOLDER    # FOLDER holds page.png and legacy.p12 (password "pw")

Prints one JSON report: the interpreter, the C extensions loaded beside tightbind in
this one process (protobuf's upb module and Pillow, imported first, so a clash of C++
runtimes would show), framing round trips through the C scanner, the legacy PKCS#12
file's public key, the page's text and words through the API and through the ``tightbind``
command.  The caller compares it with the x86-64 reference run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path


def framing() -> dict[str, object]:
    from google.protobuf import timestamp_pb2, wrappers_pb2

    from tightbind.framing import Processor

    types = [timestamp_pb2.Timestamp, wrappers_pb2.StringValue]
    messages = [timestamp_pb2.Timestamp(seconds=n, nanos=n * 7) if n % 2 else
                wrappers_pb2.StringValue(value=f"frame {n} " * (n % 13)) for n in range(500)]
    result: dict[str, object] = {}
    for codec, kinds in (("protobufp", types), ("varint", types[:1]), ("grpc", types[1:])):
        processor = Processor(kinds, codec=codec)
        sent = [m for m in messages if type(m) in kinds]
        stream = b"".join(processor.serializer.serialize(m) for m in sent)
        received = []
        for start in range(0, len(stream), 777):           # frames split across pushes
            processor.push(stream[start:start + 777])
            received.extend(processor.read_messages())
        assert processor.backend == "native", processor.backend
        result[codec] = [len(sent), received == sent]
    return result


def main(folder: Path) -> None:
    from google.protobuf.internal import api_implementation
    from PIL import Image

    import tightbind
    from tightbind import tls
    from tightbind.ocr import TessApi

    report: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "gil": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "protobuf": api_implementation.Type(),
        "tightbind": os.path.dirname(tightbind.__file__),
    }
    report["framing"] = framing()
    p12 = tls.load_pkcs12((folder / "legacy.p12").read_bytes(), "pw")
    key = p12.private_key
    assert key is not None, "the PKCS#12 file lost its key"
    report["p12_public_key"] = key.public_pem().decode()
    with TessApi() as api, Image.open(folder / "page.png") as image:
        api.set_image(image)
        api.recognize()
        report["text"] = api.get_utf8_text()
    command = [str(Path(sys.executable).parent / "tightbind")]

    def output(*args: str, **env: str) -> str:
        return subprocess.run(list(args), capture_output=True, text=True, check=True,
                              timeout=600, env={**os.environ, **env}).stdout

    page = str(folder / "page.png")
    report["cli_version"] = output(*command, "--version").strip()
    report["cli_text"] = output(*command, "ocr", page)
    tsv = output(*command, "ocr", "--format", "tsv", page)
    report["cli_words"] = [row.split("\t")[-1] for row in tsv.splitlines()[1:]
                           if row.startswith("5\t")]
    report["cli_p12"] = output(*command, "p12", str(folder / "legacy.p12"),
                               TIGHTBIND_P12_PASSWORD="pw").replace(str(folder), "FOLDER")
    info = output(sys.executable, "-m", "tightbind", "info", "--json")
    report["libraries"] = {name: entry.get("file") for name, entry in
                           json.loads(info)["libraries"].items()}
    modules = [name for name in sys.modules if name.startswith(("PIL._imaging",
                                                                "google._upb"))]
    report["other_extensions"] = sorted(modules)
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
