"""The wheels zig builds for other machines: aarch64, and x86-64 for glibc 2.17.

``bash scripts/build-wheels --target TAG`` cross-builds the vendored libraries and the
three modules with zig cc / zig c++ for the platform tag TAG and repairs the wheel with
auditwheel for that tag (wheelhouse/cross/).  For each tag:

- the wheel's name carries the tag and ``auditwheel show`` says the wheel is consistent
  with it; every bundled file's newest ``GLIBC_`` version is within it (readelf, as in
  test_platforms.py);
- no bundled file exports anything of a C++ runtime (zig links libc++ statically and
  hides it), none needs libstdc++ or libc++, and each module exports only its
  ``PyInit_`` function, so tightbind can share a process with extensions built on
  libstdc++;
- the wheel runs wheel_smoke.py (framing through the C scanner, a legacy PKCS#12 file,
  OCR of a page with the bundled models through the API and the ``tightbind`` command,
  protobuf's upb module and Pillow imported in the same process) and its report equals
  the reference run of the bullseye-built x86-64 wheel (test_platforms.py), field for
  field:
  - aarch64: in a new venv of Python 3.11 inside an arm64 Debian bookworm root
    (scripts/debian-root, its binaries run by qemu-user-static through binfmt_misc; the
    root holds no Tesseract or Leptonica, and its own OpenSSL is 3.0), through bubblewrap;
    emulation makes this the one run there (the whole suite runs on x86-64 only);
  - x86-64 (manylinux2014): in a venv of this machine's CPython, and its libraries and
    modules loaded with ``RTLD_NOW`` and two pages read in the bullseye root (glibc 2.31;
    no root older than that can be had: buster is gone from the mirrors, so glibc 2.17
    rests on the symbol check).

Cost, cold (measured, see docs/install.md): each target's vendor build, plus the arm64
root for aarch64.  So the module runs when ``TIGHTBIND_CROSS=1``; never when it is
``0``; and when unset, only if the target's vendor build is already cached (then the
rest costs a few minutes), skipping otherwise with what it would take.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT


def _sibling(name: str):
    """A module of this folder (the suite imports test files by path, not by name)."""
    spec = importlib.util.spec_from_file_location(f"_cross_{name}",
                                                  Path(__file__).with_name(f"{name}.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


clean_env = _sibling("conftest").clean_env
_bullseye = _sibling("test_bullseye")
_platforms = _sibling("test_platforms")
BULLSEYE, BULLSEYE_CHECK, BULLSEYE_TEXT = _bullseye.BULLSEYE, _bullseye.INSIDE, _bullseye.TEXT
HOST_CA, PER_RUN, SMOKE, SMOKE_DEPS = (_platforms.HOST_CA, _platforms.PER_RUN,
                                       _platforms.SMOKE, _platforms.SMOKE_DEPS)
newest_required = _platforms.newest_required
# test_platforms.py's fixtures, made visible here (smoke_inputs and native_reference ask
# for them by name).
inputs = _platforms.inputs
reference = _platforms.reference

TAGS = {"aarch64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# The arm64 root: its Python 3.11 runs the wheel, its libpython3.11-dev gives the build
# the target's headers (scripts/build-wheels names the same packages, so one root serves).
ARM64_PACKAGES = "python3 python3-venv ca-certificates libpython3.11-dev"
# Names of a C++ runtime's symbols (libstdc++, libc++, libc++abi, libunwind), mangled:
# std:: (St / NSt), its type information and tables, operator new/delete, the ABI.
CXX_RUNTIME = re.compile(r"^(_ZNSt|_ZNKSt|_ZSt|_ZTISt|_ZTSSt|_ZTVSt|_ZNSt3__1|_Znw|_Zna|"
                         r"_Zdl|_Zda|__cxa_|__gxx_|_Unwind_|__cxxabi)")

pytestmark = [
    pytest.mark.cross,
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_WHEEL_SUITE")),
                       reason="inside a wheel suite run"),
    pytest.mark.skipif(os.environ.get("TIGHTBIND_CROSS") == "0",
                       reason="TIGHTBIND_CROSS=0"),
]


def vendor_cached(tag: str) -> bool:
    found = subprocess.run(["bash", str(ROOT / "scripts" / "build-vendor"), "--cached", tag],
                           capture_output=True, text=True, timeout=60, check=False)
    return found.returncode == 0


def build(tag: str) -> Path:
    """The repaired wheel for ``tag``, built now (scripts/build-wheels --target)."""
    if os.environ.get("TIGHTBIND_CROSS") != "1" and not vendor_cached(tag):
        pytest.skip(f"{tag}: its vendored libraries are not built yet (a cold zig build: "
                    "21 minutes for both tags side by side on 2 cores); "
                    "TIGHTBIND_CROSS=1 builds and tests it")
    if os.geteuid() != 0 or shutil.which("bwrap") is None:
        pytest.skip("the cross build needs root and bubblewrap")
    made = subprocess.run(["bash", str(ROOT / "scripts" / "build-wheels"), "--target", tag],
                          capture_output=True, text=True, timeout=3600, check=False,
                          env=clean_env())
    assert made.returncode == 0, made.stderr[-4000:]
    wheels = sorted((ROOT / "wheelhouse" / "cross").glob(f"tightbind-*{tag}*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module", params=sorted(TAGS))
def wheel(request: pytest.FixtureRequest) -> Path:
    return build(TAGS[request.param])


def unpacked(wheel: Path, into: Path) -> list[Path]:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if re.search(r"\.so(\.|$)", n)]
        archive.extractall(into)
    return [into / name for name in names]


def exported(path: Path) -> list[str]:
    """The symbols ``path`` defines for others: readelf's dynamic table, defined, global
    or weak, default visibility."""
    text = subprocess.run(["readelf", "--dyn-syms", "--wide", str(path)],
                          capture_output=True, text=True, check=True).stdout
    names = []
    for row in text.splitlines():
        fields = row.split()
        if (len(fields) >= 8 and fields[4] in ("GLOBAL", "WEAK")
                and fields[5] == "DEFAULT" and fields[6] != "UND"):
            names.append(fields[7].split("@")[0])
    return names


def needed(path: Path) -> list[str]:
    text = subprocess.run(["readelf", "--dynamic", "--wide", str(path)],
                          capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text)


def test_auditwheel_confirms_the_tag(wheel):
    tag = next(t for t in TAGS.values() if t in wheel.name)
    arch = tag.split("_", 1)[1]
    assert f"manylinux_2_17_{arch}" in wheel.name, wheel.name
    shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert f'is consistent with the following platform tag: "manylinux_2_17_{arch}"' in text, \
        shown.stdout


def test_no_bundled_file_needs_a_newer_glibc_than_2_17(wheel, tmp_path):
    files = unpacked(wheel, tmp_path)
    assert len(files) >= 13, files
    table = {path.name: newest_required(path) for path in files}
    too_new = {name: needs for name, needs in table.items()
               if needs.get("GLIBC", (0,))[:2] > (2, 17) or "GLIBCXX" in needs}
    assert not too_new, too_new
    print("\n".join(f"{name}: " + ", ".join(f"{family}_{'.'.join(map(str, v))}"
                                            for family, v in sorted(needs.items()))
                    for name, needs in sorted(table.items())))


def test_no_cxx_runtime_is_exported_or_needed(wheel, tmp_path):
    files = unpacked(wheel, tmp_path)
    leaks = {path.name: [s for s in exported(path) if CXX_RUNTIME.match(s)]
             for path in files}
    assert not any(leaks.values()), {k: v[:10] for k, v in leaks.items() if v}
    runtimes = {path.name: [n for n in needed(path) if re.match(r"lib(std)?c\+\+", n)]
                for path in files}
    assert not any(runtimes.values()), runtimes
    modules = [path for path in files if path.name.endswith(".abi3.so")]
    assert len(modules) == 3, files
    for module in modules:
        assert exported(module) == [f"PyInit_{module.name.split('.')[0]}"], module.name
    tesseract = next(path for path in files if path.name.startswith("libtesseract"))
    assert "TessBaseAPICreate" in exported(tesseract)


# --- where the wheels run ------------------------------------------------------------

def arm64_root() -> Path:
    """The arm64 bookworm root; scripts/debian-root installs qemu-user-static and enables
    its binfmt_misc entry when missing."""
    made = subprocess.run(["bash", str(ROOT / "scripts" / "debian-root"), "bookworm",
                           *ARM64_PACKAGES.split()],
                          capture_output=True, text=True, timeout=3600, check=False,
                          env={**os.environ, "TIGHTBIND_ROOT_ARCH": "arm64"})
    assert made.returncode == 0, made.stderr[-3000:]
    return Path(made.stdout.strip())


def in_root(root: Path, work: Path, *argv: str, timeout: int = 1800):
    """``argv`` run inside ``root`` (bubblewrap, the root as ``/``), ``work`` shared."""
    sandbox = ["bwrap", "--ro-bind", str(root), "/", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--bind", str(work), str(work),
               "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf", "--clearenv",
               "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", str(work),
               "--setenv", "LANG", "C.UTF-8"]
    if HOST_CA:
        sandbox += ["--ro-bind", HOST_CA, "/tmp/host-ca.crt",
                    "--setenv", "PIP_CERT", "/tmp/host-ca.crt"]
    return subprocess.run([*sandbox, *argv], capture_output=True, text=True, cwd=work,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def native_reference(request: pytest.FixtureRequest) -> dict:
    """test_platforms.py's reference report (the bullseye-built x86-64 wheel, run here)."""
    if not sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*x86_64.whl")):
        pytest.skip("no bullseye-built wheel in wheelhouse/ to compare with "
                    "(TIGHTBIND_WHEEL_TARGETS=native bash scripts/build-wheels)")
    return request.getfixturevalue("reference")


@pytest.fixture(scope="module")
def smoke_inputs(request: pytest.FixtureRequest) -> Path:
    """test_platforms.py's page.png and legacy.p12."""
    return request.getfixturevalue("inputs")


def same_as_reference(report: dict, expected: dict) -> dict:
    return {key: (report.get(key), value) for key, value in expected.items()
            if key not in (*PER_RUN, "machine") and report.get(key) != value}


def test_aarch64_wheel_runs_the_smoke_program_under_qemu(smoke_inputs, native_reference, tmp_path):
    wheel = build(TAGS["aarch64"])
    root = arm64_root()
    shutil.copy2(SMOKE, tmp_path)
    shutil.copytree(smoke_inputs, tmp_path / "inputs")
    shutil.copy2(wheel, tmp_path)
    # The root has no Tesseract or Leptonica of its own; its OpenSSL 3.0 is there (python3
    # needs it), and the report says the wheel's 3.5 is the one loaded.
    for absent in ("libtesseract.so", "libleptonica.so"):
        assert not list(root.glob(f"usr/lib/aarch64-linux-gnu/{absent}*")), absent
    made = in_root(root, tmp_path, "/usr/bin/python3.11", "-m", "venv", str(tmp_path / "venv"))
    assert made.returncode == 0, made.stderr
    python = str(tmp_path / "venv" / "bin" / "python")
    installed = in_root(root, tmp_path, python, "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", str(tmp_path / wheel.name), *SMOKE_DEPS)
    assert installed.returncode == 0, installed.stderr[-3000:]
    result = in_root(root, tmp_path, python, str(tmp_path / SMOKE.name),
                     str(tmp_path / "inputs"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["machine"] == "aarch64"
    assert report["python"].startswith("3.11.")
    assert report["tightbind"].startswith(str(tmp_path / "venv")), report["tightbind"]
    # `tightbind info` names the first mapping of each library; the root's OpenSSL 3.0 is
    # mapped too (Python's own ssl module), and here it can come first.  _tls itself
    # names the wheel's renamed copies (libssl-<hash>.so.3), which no other file matches.
    for name, path in report["libraries"].items():
        allowed = ("/tightbind.libs/",) if name in ("tesseract", "leptonica") else \
            ("/tightbind.libs/", "/usr/lib/aarch64-linux-gnu/")
        assert path and any(part in path for part in allowed), (name, path)
    tls = next(p for p in unpacked(wheel, tmp_path / "unpacked") if p.name.startswith("_tls"))
    assert {n.split("-")[0] for n in needed(tls) if re.match(r"lib(ssl|crypto)-[0-9a-f]{8}\.", n)} \
        == {"libssl", "libcrypto"}, needed(tls)
    assert not same_as_reference(report, native_reference)


def test_x86_64_wheel_runs_the_smoke_program_here(smoke_inputs, native_reference, tmp_path):
    wheel = build(TAGS["x86_64"])
    shutil.copy2(SMOKE, tmp_path)
    shutil.copytree(smoke_inputs, tmp_path / "inputs")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = str(tmp_path / "venv" / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheel), *SMOKE_DEPS], check=True, env=clean_env(), timeout=1200)
    result = subprocess.run([python, str(tmp_path / SMOKE.name), str(tmp_path / "inputs")],
                            capture_output=True, text=True, cwd=tmp_path, env=clean_env(),
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["machine"] == "x86_64"
    for name, path in report["libraries"].items():
        assert path and "/tightbind.libs/" in path, (name, path)
    assert not same_as_reference(report, native_reference)


def test_x86_64_wheel_binds_every_symbol_in_bullseye(tmp_path):
    wheel = build(TAGS["x86_64"])
    if not (BULLSEYE / "usr" / "bin" / "python3").exists():
        pytest.skip(f"no bullseye root at {BULLSEYE} (bash scripts/bullseye-root)")
    unpacked(wheel, tmp_path / "wheel")
    for library in (tmp_path / "wheel" / "tightbind.libs").iterdir():
        library.chmod(0o755)
    pages = tmp_path / "pages"
    pages.mkdir()
    _bullseye.write_pages(pages)
    result = subprocess.run(
        ["bwrap", "--ro-bind", str(BULLSEYE), "/", "--proc", "/proc", "--dev", "/dev",
         "--tmpfs", "/tmp", "--ro-bind", str(tmp_path / "wheel"), "/tmp/wheel",
         "--ro-bind", str(pages), "/tmp/pages", "--clearenv", "--setenv", "PATH",
         "/usr/bin:/bin", "/usr/bin/python3", "-c", BULLSEYE_CHECK],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not report["failed"], report["failed"]
    assert len([n for n in report["loaded"] if n.endswith(".abi3.so")]) == 3, report["loaded"]
    assert report["tesseract"].startswith("5.5.")
    assert report["pages"] == {name: BULLSEYE_TEXT for name in
                               ("page.jpg", "page.png", "page.tif")}
