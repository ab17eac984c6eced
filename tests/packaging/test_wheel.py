"""The repaired wheel, installed into fresh virtual environments, works on its own.

scripts/build-wheels makes wheelhouse/*.whl (scripts/test runs it first, so CI always
checks a fresh wheel); without one these tests skip.  Per interpreter:

- the oldest interpreter here (CPython 3.10 where pyenv has it, else Debian's python3)
  runs the whole suite against the installed wheel, as the tree's own build does;
- the others of 3.10 to 3.13 (pyenv's, else /usr/bin/python3.X) and Debian's
  /usr/bin/python3 run a smoke subset (every
  area's basic tests, SMOKE below): the modules are the same abi3 files on each, so what
  differs per interpreter is loading them and the Python-level glue, not the C.

Then the wheel must stand alone: legacy PKCS#12 files load with the system's OpenSSL
modules folder hidden, and OCR works with the system's Tesseract, Leptonica and tessdata
hidden (bubblewrap mounts over them; the same sandbox is shown to break the tree's
system-library build, so the hiding is real).
"""

from __future__ import annotations

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

WHEELS = sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*.whl"))
# Tests of the source tree itself rather than the installed package (found by name, so
# they may live in any tests/ subfolder).
SOURCE_ONLY = ["packaging", "test_lint.py", "test_build.py", "test_fuzz.py",
               "test_declarations.py"]
# Set in the suite runs below: the packaging tests never run inside themselves.
NESTED = "TIGHTBIND_WHEEL_SUITE"

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(not WHEELS, reason="no repaired wheel in wheelhouse/ "
                                          "(bash scripts/build-wheels makes one)"),
    pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="inside a wheel suite run"),
]

# The smoke subset run on every interpreter besides the one that runs the whole suite.
SMOKE = "framing or p12 or pkcs12 or ocr and (text or words or pix) or cli"
# Suite tests whose subject is a system-library build and which the wheel differs from by
# design; the wheel runs deselect them (by name), each for the reason given.
WHEEL_DIFFERENCES = {
    "test_openmp_defaults_to_one_thread":
        "the wheel's Tesseract has no OpenMP, so there is no thread limit to pin",
    "test_missing_legacy_provider":
        "the wheel's libcrypto has the legacy provider built in: no OPENSSL_MODULES "
        "folder can take it away (test_legacy_p12_loads_with_the_system_ossl_modules_"
        "hidden checks the other side)",
    "paths_under_valgrind":
        "valgrind reports glibc's ld.so (strncmp in decompose_rpath) reading the RPATH "
        "auditwheel wrote; the shim is checked under valgrind by the tree's build",
}
DESELECT = "not (" + " or ".join(WHEEL_DIFFERENCES) + ")"
# Libraries that must never be inside the wheel (what Debian's libtesseract dragged in).
FORBIDDEN = ("libicu", "libcurl", "libgnutls", "libkrb5", "libgssapi", "libldap",
             "libarchive", "libssh", "librtmp", "libgomp", "libnettle", "libidn")
MAX_WHEEL_BYTES = 20 * 1024 * 1024
MAX_LIBS_BYTES = 25 * 1024 * 1024
SYSTEM_LIBS = Path("/usr/lib/x86_64-linux-gnu")


def host_python(version: str) -> Path | None:
    """pyenv's CPython ``version`` where this machine has pyenv, else Debian's."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted((root / "versions").glob(f"{version}.*/bin/python3"))
    if found:
        return found[-1]
    system = Path(f"/usr/bin/python{version}")
    return system if system.exists() else None


INTERPRETERS = {
    "3.10": host_python("3.10"),
    "3.11": host_python("3.11"),
    "3.12": host_python("3.12"),
    "3.13": host_python("3.13"),
    "debian": Path("/usr/bin/python3") if Path("/usr/bin/python3").exists() else None,
}
# The oldest interpreter here runs the whole suite (3.10 where pyenv has it; on a fresh
# Debian bookworm, its 3.11); the others run the smoke subset.
FULL_SUITE_ON = next((name for name, path in INTERPRETERS.items() if path), "3.10")


def clean_env(**updates: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TESSDATA_PREFIX", "VIRTUAL_ENV", "OPENSSL_MODULES")}
    env.update(updates)
    return env


def venv_for(name: str, wheel_venv) -> Path:
    base = INTERPRETERS[name]
    if base is None:
        pytest.skip(f"no CPython {name} on this machine, neither pyenv's nor Debian's "
                    "(test_platforms.py runs the wheel's smoke program on Debian roots' "
                    "3.11, 3.13, 3.14 and 3.15)")
    return wheel_venv(base)


@pytest.fixture(scope="module")
def wheel_python(wheel_venv) -> Path:
    """The wheel installed for the interpreter that runs the whole suite."""
    return venv_for(FULL_SUITE_ON, wheel_venv)


def run_in(python: Path, code: str, *, sandbox: list[str] | None = None,
           check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    command = [*(sandbox or []), str(python), "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, cwd=python.parent,
                            env=clean_env(**env), check=False, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def package_dir(python: Path) -> Path:
    out = run_in(python, "import tightbind, os; print(os.path.dirname(tightbind.__file__))")
    return Path(out.stdout.strip())


def test_wheel_is_one_abi3_manylinux_2_31_or_older_wheel():
    assert len(WHEELS) == 1, WHEELS
    name = WHEELS[0].name
    tags = name[: -len(".whl")].split("-")[2:]
    assert tags[:2] == ["cp310", "abi3"], name
    platforms = tags[2].split(".")
    glibc = [tuple(int(n) for n in p.split("_")[1:3]) for p in platforms
             if p.startswith("manylinux_")]
    assert glibc and min(glibc) <= (2, 31), name


def test_wheel_is_lean():
    wheel = WHEELS[-1]
    assert wheel.stat().st_size <= MAX_WHEEL_BYTES, wheel.stat().st_size
    with zipfile.ZipFile(wheel) as archive:
        libs = [i for i in archive.infolist() if i.filename.startswith("tightbind.libs/")]
    names = [Path(i.filename).name for i in libs]
    assert sum(i.file_size for i in libs) <= MAX_LIBS_BYTES, names
    for prefix in FORBIDDEN:
        assert not [n for n in names if n.startswith(prefix)], (prefix, names)
    # zlib is not among them: manylinux lets a wheel use the system's libz.so.1.
    for needed in ("libtesseract", "libleptonica", "libssl", "libcrypto", "libpng16",
                   "libjpeg", "libtiff", "libgif", "libwebp", "libsharpyuv"):
        assert [n for n in names if n.startswith(needed + "-")], (needed, names)


def test_wheel_ships_the_package_and_no_repository_tooling():
    """tightbind.bench (the installed `tightbind bench`) is in the wheel; the repository's
    bench/ (contests against other packages, their venvs) and tests are not."""
    with zipfile.ZipFile(WHEELS[-1]) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert "tightbind/bench/__init__.py" in names and "tightbind/commands/bench.py" in names
    assert not {"bench", "tests", "scripts", "docs"} & tops, sorted(tops)
    assert not [n for n in names if n.startswith("tightbind/benchmarks/")]


def test_wheel_carries_tesseracts_config_files():
    """Config names (``digits``, ``hocr``, ``pdf``, ``tsv`` ...; pytesseract's and the
    ``tesseract`` command's) work with the bundled models: their files sit beside them."""
    with zipfile.ZipFile(WHEELS[-1]) as archive:
        names = set(archive.namelist())
    for config in ("digits", "hocr", "pdf", "tsv", "txt", "alto", "unlv", "lstmbox"):
        assert f"tightbind/tessdata/configs/{config}" in names, config
    assert "tightbind/tessdata/tessconfigs/batch" in names
    assert not [name for name in names if "Makefile" in name]


def test_auditwheel_confirms_the_platform_tag():
    result = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(WHEELS[-1])],
                            capture_output=True, text=True, check=True, timeout=300)
    text = " ".join(result.stdout.split())
    assert "is consistent with the following platform tag: \"manylinux_2_31_x86_64\"" in text \
        or "manylinux_2_28_x86_64\"" in text, result.stdout


def test_abi3audit_is_clean():
    pytest.importorskip("abi3audit")
    result = subprocess.run([sys.executable, "-m", "abi3audit", "--strict", "--report",
                             str(WHEELS[-1])], capture_output=True, text=True, check=False,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    [spec] = report["specs"].values()
    modules = spec["wheel"]
    assert len(modules) == 3, modules
    assert all(not module["result"]["non_abi3_symbols"] and module["result"]["is_abi3"]
               for module in modules), modules


def test_wheel_carries_its_native_libraries(wheel_python):
    package = package_dir(wheel_python)
    assert str(package).startswith(str(wheel_python.parent.parent)), package
    modules = sorted(package.glob("_*.so"))
    assert all(m.name.endswith(".abi3.so") for m in modules), modules
    assert any(m.name.startswith("_frame") for m in modules)
    wanted = {"_ocr": ("libtesseract", "libleptonica"), "_tls": ("libssl", "libcrypto")}
    for module in modules:
        needs = wanted.get(module.name.split(".")[0])
        if not needs:
            continue
        ldd = subprocess.run(["ldd", str(module)], capture_output=True, text=True,
                             check=True).stdout
        for library in needs:
            lines = [line for line in ldd.splitlines() if library in line]
            assert lines, (module, library, ldd)
            # auditwheel's RPATH resolves them inside the venv: .../tightbind.libs/...
            assert all("=> " + str(package.parent) in line and "/tightbind.libs/" in line
                       for line in lines), lines


def test_wheel_carries_models_and_licences(wheel_python):
    package = package_dir(wheel_python)
    for name in ("eng.traineddata", "osd.traineddata", "COPYING.eng", "COPYING.osd"):
        assert (package / "tessdata" / name).is_file(), name
    for library in ("tesseract", "leptonica", "openssl", "libpng", "libjpeg-turbo",
                    "libtiff", "zlib"):
        texts = list((package / "licenses" / library).iterdir())
        assert texts and all(t.stat().st_size > 500 for t in texts), library


def test_info_names_the_bundled_libraries(wheel_python):
    report = json.loads(run_in(wheel_python, "from tightbind.__main__ import main; "
                                             "main(['info', '--json'])").stdout)
    libraries = report["libraries"]
    assert libraries["tesseract"]["version"].startswith("5.5.")
    assert libraries["leptonica"]["version"].startswith("1.84.")
    assert libraries["libcrypto"]["version"].startswith("OpenSSL 3.5.")
    for name in ("tesseract", "leptonica", "libssl", "libcrypto"):
        assert "/tightbind.libs/" in libraries[name]["file"], libraries[name]
    assert report["tessdata"].rstrip("/").endswith("site-packages/tightbind/tessdata")


def passed(result: subprocess.CompletedProcess[str]) -> int:
    """How many tests pytest's summary line says passed."""
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    match = re.search(r"(\d+) passed", last)
    return int(match.group(1)) if match else 0


def run_suite(python: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    tests = ROOT / "tests"
    # --ignore, not --ignore-glob: pytest 9 still collects the files of a folder whose
    # path a glob matches only with a trailing separator.
    ignore = [f"--ignore={path}" for name in SOURCE_ONLY for path in tests.rglob(name)]
    assert any(path.endswith("packaging") for path in ignore), ignore
    # tests/ for the helpers; the root for the repository's bench/ (its PDF corpus, the
    # peers' venvs), which is tooling and not in the wheel.  The tree's own tightbind,
    # under python/, stays off the path: the wheel's is the one tested.
    return subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={ROOT}",
         "-c", os.devnull, "--strict-markers", "--import-mode=importlib",
         "-o", f"pythonpath={tests} {ROOT}", str(tests), *ignore, *args],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env(**{NESTED: "1"}),
        check=False, timeout=3600,
    )


def test_whole_suite_passes_against_the_installed_wheel(wheel_python, tmp_path):
    result = run_suite(wheel_python, tmp_path, "-k", DESELECT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert passed(result) >= 250, result.stdout[-2000:]
    assert f"tightbind 0.1.0 from {wheel_python.parent.parent}" in result.stdout


@pytest.mark.parametrize("name", [n for n in INTERPRETERS if n != FULL_SUITE_ON])
def test_smoke_suite_passes_on_each_python(name, wheel_venv, tmp_path):
    python = venv_for(name, wheel_venv)
    result = run_suite(python, tmp_path, "-k", f"({SMOKE}) and {DESELECT}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert passed(result) >= 100, result.stdout[-2000:]
    assert f"tightbind 0.1.0 from {python.parent.parent}" in result.stdout


# --- standing alone: the system's copies hidden --------------------------------------

def bwrap(*hide: str) -> list[str]:
    """A bubblewrap sandbox seeing the whole machine except ``hide``: folders become
    empty tmpfs mounts, files become /dev/null."""
    exe = shutil.which("bwrap")
    if exe is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    command = [exe, "--dev-bind", "/", "/"]
    for path in hide:
        if Path(path).is_dir():
            command += ["--tmpfs", path]
        elif Path(path).exists():
            command += ["--ro-bind", "/dev/null", path]
    return command


@pytest.fixture(scope="module")
def legacy_p12(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """An RC2-40/3DES PKCS#12 file made by the openssl command, and the certificate's
    public key as openssl prints it."""
    folder = tmp_path_factory.mktemp("legacy-p12")

    def openssl(*args: str) -> bytes:
        return subprocess.run(["openssl", *args], cwd=folder, capture_output=True,
                              check=True, timeout=120).stdout

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
            "-out", "cert.pem", "-subj", "/CN=legacy wheel test", "-days", "2")
    openssl("pkcs12", "-export", "-legacy", "-in", "cert.pem", "-inkey", "key.pem",
            "-out", "legacy.p12", "-passout", "pass:pw")
    info = subprocess.run(["openssl", "pkcs12", "-in", "legacy.p12", "-info", "-noout",
                           "-passin", "pass:pw", "-legacy"], cwd=folder,
                          capture_output=True, text=True, check=True)
    assert "pbeWithSHA1And40BitRC2-CBC" in info.stderr + info.stdout
    return folder / "legacy.p12", openssl("x509", "-in", "cert.pem", "-noout", "-pubkey")


LOAD_P12 = (
    "import sys\n"
    "from tightbind import tls\n"
    "p12 = tls.load_pkcs12(open(sys.argv[1] if len(sys.argv) > 1 else {path!r}, 'rb')"
    ".read(), 'pw')\n"
    "sys.stdout.write(p12.private_key.public_pem().decode())\n"
)
OSSL_MODULES = str(SYSTEM_LIBS / "ossl-modules")


def test_legacy_p12_loads_with_the_system_ossl_modules_hidden(wheel_python, legacy_p12):
    path, public_key = legacy_p12
    sandbox = bwrap(OSSL_MODULES)
    out = run_in(wheel_python, LOAD_P12.format(path=str(path)), sandbox=sandbox)
    assert out.stdout.encode() == public_key


def test_the_hiding_breaks_a_system_openssl_build(legacy_p12):
    # The same sandbox makes the tree's build (system libcrypto) lose its legacy
    # provider, so the test above proves the wheel's own copy did the work.
    if not Path(OSSL_MODULES, "legacy.so").exists():
        pytest.skip("the system has no legacy.so to hide")
    import tightbind._tls as native

    ldd = subprocess.run(["ldd", native.__file__], capture_output=True, text=True).stdout
    if "libcrypto.so.3 => /" not in ldd or "/tightbind.libs/" in ldd:
        pytest.skip("this interpreter's tightbind does not use the system OpenSSL")
    path, _ = legacy_p12
    result = run_in(Path(sys.executable), LOAD_P12.format(path=str(path)),
                    sandbox=bwrap(OSSL_MODULES), check=False)
    assert result.returncode != 0
    assert "LegacyProviderUnavailable" in result.stderr


SYSTEM_OCR = [str(p) for p in sorted(SYSTEM_LIBS.glob("libtesseract.so*")) +
              sorted(SYSTEM_LIBS.glob("liblept.so*")) if not p.is_symlink()] + \
    ["/usr/share/tesseract-ocr"]

OCR_PAGE = (
    "from tightbind.ocr import TessApi\n"
    "from PIL import Image, ImageDraw, ImageFont\n"
    "font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 40)\n"
    "image = Image.new('L', (760, 120), 255)\n"
    "ImageDraw.Draw(image).text((20, 30), 'standing on its own', font=font, fill=0)\n"
    "with TessApi() as api:\n"
    "    api.set_image(image)\n"
    "    api.recognize()\n"
    "    print(api.get_utf8_text().strip())\n"
)


def test_ocr_works_with_system_tesseract_leptonica_and_tessdata_hidden(wheel_python):
    assert any("libtesseract" in p for p in SYSTEM_OCR), "nothing to hide: test is void"
    out = run_in(wheel_python, OCR_PAGE, sandbox=bwrap(*SYSTEM_OCR))
    assert out.stdout.strip() == "standing on its own"


def test_the_hiding_breaks_a_system_tesseract_build():
    import tightbind._ocr as native

    ldd = subprocess.run(["ldd", native.__file__], capture_output=True, text=True).stdout
    if "libtesseract.so.5 => /" not in ldd or "/tightbind.libs/" in ldd:
        pytest.skip("this interpreter's tightbind does not use the system Tesseract")
    result = run_in(Path(sys.executable), OCR_PAGE, sandbox=bwrap(*SYSTEM_OCR), check=False)
    assert result.returncode != 0
    assert "libtesseract" in result.stderr or "liblept" in result.stderr
