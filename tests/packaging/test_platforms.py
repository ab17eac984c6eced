"""The wheel where it installs: every CPython from 3.10 to 3.15, and the glibc it claims.

Each interpreter gets a new venv with the wheel, protobuf and Pillow, and runs
wheel_smoke.py (framing through the C scanner, a legacy RC2/3DES PKCS#12 file, OCR of a
page through the API and the ``tightbind`` command, protobuf's upb module and Pillow
loaded in the same process).  Its report must equal the x86-64 reference run (this
machine's own interpreter) field for field: the same text and words, the same key.

Where the interpreters come from, first found wins:

- pyenv's CPython 3.10 to 3.13, where this machine has pyenv;
- this machine's /usr/bin/python3.X;
- a Debian root made by scripts/debian-root (cached under ~/.cache/tightbind/roots),
  the interpreter run inside it through bubblewrap with the root as ``/``, so no file
  of this machine's libraries is in reach: bookworm's 3.11, trixie's 3.13, sid's 3.14
  and 3.15.  pip there gets this machine's CA bundle (``PIP_CERT``).

No Debian release that can be fetched ships 3.10 or 3.12 (bullseye has 3.9; buster is
gone from the mirrors), so without pyenv those two skip and say so.  The smoke run is
the same program on every interpreter; the whole suite and its pytest smoke subset run
on this machine's interpreters in test_wheel.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

WHEELS = sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*x86_64.whl"))

SMOKE = Path(__file__).with_name("wheel_smoke.py")
HOST_CA = next((p for p in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"),
                            "/etc/ssl/certs/ca-certificates.crt") if p and Path(p).is_file()),
               None)
# What the smoke program imports besides the wheel (both have wheels for 3.10 to 3.15).
SMOKE_DEPS = ["protobuf==6.33.6", "Pillow==13.0.0; python_version >= '3.11'",
              "Pillow==12.3.0; python_version < '3.11'"]

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(not WHEELS, reason="no x86-64 wheel in wheelhouse/ "
                                          "(bash scripts/build-wheels makes one)"),
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_WHEEL_SUITE")),
                       reason="inside a wheel suite run"),
]

# Debian roots and the packages each holds: (suite, packages).  The bookworm one is the
# fresh machine of test_fresh_root.py, so one cached root serves both.
ROOTS = {
    "bookworm": "python3 python3-venv git ca-certificates",
    "trixie": "python3 python3-venv",
    "sid": "python3.14 python3.14-venv python3.15 python3.15-venv",
}
# version -> the Debian root and the interpreter's path inside it
IN_ROOT = {"3.11": ("bookworm", "/usr/bin/python3.11"),
           "3.13": ("trixie", "/usr/bin/python3.13"),
           "3.14": ("sid", "/usr/bin/python3.14"),
           "3.15": ("sid", "/usr/bin/python3.15")}
VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


@dataclass
class Interpreter:
    """A CPython to install the wheel for: on this machine, or inside a Debian root."""

    version: str
    python: str                 # its path (inside the root, for a root)
    root: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.python} in {self.root.name}" if self.root else self.python

    def command(self, work: Path, *argv: str) -> list[str]:
        if self.root is None:
            return list(argv)
        bwrap = shutil.which("bwrap")
        assert bwrap, "bubblewrap went away"
        sandbox = [bwrap, "--ro-bind", str(self.root), "/", "--proc", "/proc",
                   "--dev", "/dev", "--tmpfs", "/tmp", "--bind", str(work), str(work),
                   "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf",
                   "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME",
                   str(work), "--setenv", "LANG", "C.UTF-8"]
        if HOST_CA:
            sandbox += ["--ro-bind", HOST_CA, "/tmp/host-ca.crt",
                        "--setenv", "PIP_CERT", "/tmp/host-ca.crt"]
        return [*sandbox, *argv]


def pyenv_python(version: str) -> str | None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted((root / "versions").glob(f"{version}.*/bin/python3"))
    return str(found[-1]) if found else None


def debian_root(suite: str) -> Path:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.skip(f"a Debian {suite} root needs root and debootstrap (bash scripts/"
                    "debian-root); this run has neither")
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (scripts/_setup.sh installs it)")
    made = subprocess.run(["bash", str(ROOT / "scripts" / "debian-root"), suite,
                           *ROOTS[suite].split()],
                          capture_output=True, text=True, timeout=1800, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    return Path(made.stdout.strip())


def find_interpreter(version: str) -> Interpreter:
    found = pyenv_python(version) or shutil.which(f"python{version}", path="/usr/bin")
    if found:
        return Interpreter(version, found)
    if version not in IN_ROOT:
        pytest.skip(f"no CPython {version} here: pyenv has none, and no Debian release "
                    "reachable from here ships it (bullseye has 3.9, bookworm 3.11, trixie "
                    "3.13, sid 3.14 and 3.15)")
    suite, python = IN_ROOT[version]
    return Interpreter(version, python, debian_root(suite))


def run(interpreter: Interpreter, work: Path, *argv: str,
        timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TESSDATA_PREFIX", "VIRTUAL_ENV", "OPENSSL_MODULES")}
    return subprocess.run(interpreter.command(work, *argv), capture_output=True, text=True,
                          cwd=work, env=env, timeout=timeout, check=False)


def smoke(interpreter: Interpreter, work: Path, inputs: Path, wheel_venv) -> dict:
    """The smoke program's report for ``interpreter``.  On this machine it runs in the
    session's venv of that interpreter (the one test_wheel.py tests, made once); in a
    Debian root, in a new venv holding the wheel and SMOKE_DEPS under ``work`` (the one
    folder the root sees), with the program and its inputs copied there."""
    shutil.copy2(SMOKE, work)
    shutil.copytree(inputs, work / "inputs")
    if interpreter.root is None:
        python = str(wheel_venv(Path(interpreter.python)))
    else:
        shutil.copy2(WHEELS[-1], work)
        made = run(interpreter, work, interpreter.python, "-m", "venv", str(work / "venv"))
        assert made.returncode == 0, made.stderr
        python = str(work / "venv" / "bin" / "python")
        installed = run(interpreter, work, python, "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", str(work / WHEELS[-1].name),
                        *SMOKE_DEPS)
        assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    result = run(interpreter, work, python, str(work / SMOKE.name), str(work / "inputs"),
                 timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["venv"] = str(Path(python).parent.parent)
    return report


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """page.png (rendered text) and legacy.p12 (RC2-40 and 3DES, made by openssl)."""
    from PIL import Image, ImageDraw, ImageFont

    folder = tmp_path_factory.mktemp("smoke-inputs")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    image = Image.new("L", (1200, 260), 255)
    draw = ImageDraw.Draw(image)
    draw.text((30, 30), "Every wheel reads this page", font=font, fill=0)
    draw.text((30, 140), "the same way: 3.10 to 3.15", font=font, fill=0)
    image.save(folder / "page.png", dpi=(300, 300))

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, capture_output=True, check=True,
                       timeout=120)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
            "-out", "cert.pem", "-subj", "/CN=smoke", "-days", "2")
    openssl("pkcs12", "-export", "-legacy", "-in", "cert.pem", "-inkey", "key.pem",
            "-out", "legacy.p12", "-passout", "pass:pw")
    for name in ("key.pem", "cert.pem"):
        (folder / name).unlink()
    return folder


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory, wheel_venv) -> dict:
    """The smoke report of this machine's own CPython (x86-64): what every other run
    must equal."""
    base = Interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}",
                       getattr(sys, "_base_executable", sys.executable))
    return smoke(base, tmp_path_factory.mktemp("smoke-reference"), inputs, wheel_venv)


# Fields that differ by interpreter and place, not by what the wheel did.
PER_RUN = ("python", "tightbind", "libraries", "venv")


def test_reference_run_used_the_wheel(reference):
    assert reference["machine"] == "x86_64"
    assert reference["tightbind"].startswith(reference["venv"]), reference["tightbind"]
    for name, path in reference["libraries"].items():
        assert path and "/tightbind.libs/" in path, (name, path)
    assert reference["framing"] == {"protobufp": [500, True], "varint": [250, True],
                                    "grpc": [250, True]}
    assert "Every wheel reads this page" in reference["text"]
    assert reference["cli_text"].strip() == reference["text"].strip()
    assert reference["cli_words"][:4] == ["Every", "wheel", "reads", "this"]
    assert reference["p12_public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert reference["protobuf"] == "upb"
    assert {"PIL._imaging", "google._upb._message"} <= set(reference["other_extensions"])
    assert "private key: RSA 2048 bits" in reference["cli_p12"]


@pytest.mark.parametrize("version", VERSIONS)
def test_smoke_run_equals_the_reference(version, reference, inputs, tmp_path, wheel_venv):
    interpreter = find_interpreter(version)
    report = smoke(interpreter, tmp_path, inputs, wheel_venv)
    assert report["python"].startswith(version + "."), (interpreter.where, report["python"])
    assert report["tightbind"].startswith(report["venv"]), report["tightbind"]
    for name, path in report["libraries"].items():
        assert path and "/tightbind.libs/" in path, (interpreter.where, name, path)
    differing = {key: (report.get(key), value) for key, value in reference.items()
                 if key not in PER_RUN and report.get(key) != value}
    assert not differing, (interpreter.where, differing)


# --- the oldest glibc claimed: every bundled file's newest symbol version -------------

VERSIONED = re.compile(r"\b(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)\b")


def newest_required(path: Path) -> dict[str, tuple[int, ...]]:
    """The newest version of each versioned library (GLIBC, GLIBCXX, ...) that ``path``
    requires: readelf's version-needs section, the linker's own list."""
    text = subprocess.run(["readelf", "--version-info", "--wide", str(path)],
                          capture_output=True, text=True, check=True).stdout
    needs = text.split("Version needs section", 1)[-1] if "Version needs" in text else ""
    newest: dict[str, tuple[int, ...]] = {}
    for family, version in VERSIONED.findall(needs):
        number = tuple(int(n) for n in version.split("."))
        newest[family] = max(newest.get(family, number), number)
    return newest


def test_no_bundled_file_needs_a_newer_glibc_than_the_tag(tmp_path):
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed (binutils: scripts/_setup.sh installs it)")
    wheel = WHEELS[-1]
    tag = re.search(r"manylinux_(\d+)_(\d+)_x86_64", wheel.name)
    assert tag, wheel.name
    claimed = (int(tag.group(1)), int(tag.group(2)))
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if re.search(r"\.so(\.|$)", n)]
        archive.extractall(tmp_path, names)
    table = {Path(name).name: newest_required(tmp_path / name) for name in names}
    assert len(table) >= 13, sorted(table)
    glibc = {name: needs.get("GLIBC", (0,)) for name, needs in table.items()}
    too_new = {name: v for name, v in glibc.items() if v[:2] > claimed}
    assert not too_new, (claimed, too_new)
    print("\n".join(f"{name}: " + ", ".join(f"{family}_{'.'.join(map(str, v))}"
                                            for family, v in sorted(needs.items()))
                    for name, needs in sorted(table.items())))
