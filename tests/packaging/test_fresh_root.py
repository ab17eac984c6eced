"""The README's promise of a fresh machine, kept: in a Debian bookworm root made by
debootstrap with only ``python3 python3-venv git ca-certificates`` (no pyenv, no
CPython 3.10, no -dev packages, no compilers), ``TIGHTBIND_WHEEL_TARGETS=native bash
scripts/build-wheels`` runs the set-up (apt packages, the venv, tightbind built into it)
and builds the repaired abi3 wheel, and the wheel then installs and works in a new venv
of that root's Python 3.11.  (The zig-built wheels, 20 to 25 minutes each cold, are
left to test_cross.py.)

scripts/fresh-root makes the root (a new copy of a cached pristine one per run) and
shares in only download caches and the vendored libraries' build cache (keyed by recipe
hash and made inside their own bullseye root from the pinned tarballs:
TIGHTBIND_FRESH_VENDOR=build rebuilds them there too).  The bullseye build root itself
is debootstrapped afresh inside.  About 10 minutes with warm download caches, so slow,
and marked ``fresh``.

A pass is remembered (under ~/.cache/tightbind/fresh/passed/) by the hash of everything
that decides it: the tracked files of the set-up, the vendor recipe, the build scripts,
build_ffi.py, the build configuration and the requirements, as they are in the working
tree (what scripts/fresh-root copies in), plus this test.  The same hash within
7 days (Debian's bookworm moves with point releases, PyPI with new uploads) skips with
the date of the pass it rests on; any change to those files runs it again, and
``TIGHTBIND_FRESH_FORCE=1`` always does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = [
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_WHEEL_SUITE")),
                       reason="inside a wheel suite run"),
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_FRESH_ROOT")),
                       reason="already inside a fresh root (scripts/fresh-root)"),
]

# Run inside the clone, in the fresh root: the set-up and the wheel build, then the wheel
# on its own in a new venv (no PYTHONPATH, run from outside the clone).
INSIDE = r"""
set -euo pipefail
echo "python3: $(python3 -V) at $(command -v python3)"
for absent in python3.10 gcc pkg-config; do
    if command -v "$absent" >/dev/null; then echo "not fresh: $absent is here"; exit 3; fi
done
TIGHTBIND_WHEEL_TARGETS=native bash scripts/build-wheels
wheel=$(ls wheelhouse/tightbind-*.whl)
echo "built: $(basename "$wheel")"
python3 -m venv /tmp/wheel-venv
/tmp/wheel-venv/bin/python -m pip install -q --disable-pip-version-check "$wheel"
cd /tmp && /tmp/wheel-venv/bin/python -c '
import tightbind, tightbind._frame, tightbind._ocr, tightbind._tls
from tightbind.__main__ import main
print("loaded from", tightbind.__file__)
main(["info"])
'
"""


# What decides whether the set-up and the wheel build pass on a fresh machine.
# Not the C sources: the fresh root compiles them with the same bullseye compiler, in a
# root made by the same script, against the same vendored build as this machine's own
# wheel build, which every run of the suite does; what a fresh machine can lack is what
# the set-up installs, and build_ffi.py names the libraries and flags it asks for.
DECIDING = ["scripts", "vendor", "requirements", "build_ffi.py", "setup.py",
            "pyproject.toml", "MANIFEST.in", "tests/packaging/test_fresh_root.py"]
PASSES = Path(os.environ.get("TIGHTBIND_CACHE", Path.home() / ".cache" / "tightbind")) \
    / "fresh" / "passed"
REMEMBERED_FOR = 7 * 24 * 3600


def recipe_key(tree: Path = ROOT) -> str:
    """sha256 of the deciding files' paths and working-tree contents (tracked and new,
    as scripts/fresh-root copies them)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard", "--", *DECIDING], cwd=tree,
                            capture_output=True, check=True, timeout=60).stdout
    digest = hashlib.sha256()
    for name in sorted(filter(None, listed.decode().split("\0"))):
        path = tree / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def test_recipe_key_follows_the_deciding_files(tmp_path):
    assert re.fullmatch(r"[0-9a-f]{16}", recipe_key())
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "_setup.sh").write_text("apt-get install a\n")
    (tmp_path / "README.md").write_text("words\n")
    key = recipe_key(tmp_path)
    assert recipe_key(tmp_path) == key                      # stable
    (tmp_path / "README.md").write_text("other words\n")
    assert recipe_key(tmp_path) == key                      # not a deciding file
    (tmp_path / "scripts" / "_setup.sh").write_text("apt-get install a b\n")
    changed = recipe_key(tmp_path)
    assert changed != key                                   # a deciding file's content
    (tmp_path / "scripts" / "new").write_text("x\n")
    assert recipe_key(tmp_path) not in (key, changed)       # a new deciding file


@pytest.mark.slow
@pytest.mark.fresh
def test_set_up_and_wheel_build_on_a_fresh_bookworm_root():
    key = recipe_key()
    stamp = PASSES / f"{key}.log"
    if not os.environ.get("TIGHTBIND_FRESH_FORCE") and stamp.is_file() \
            and time.time() - stamp.stat().st_mtime < REMEMBERED_FOR:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp.stat().st_mtime))
        pytest.skip(f"passed {when} for these files (recipe {key}, {stamp}); "
                    "TIGHTBIND_FRESH_FORCE=1 runs it again")
    if os.geteuid() != 0:
        pytest.skip("needs root (debootstrap, chroot and bubblewrap as root)")
    for tool in ("debootstrap", "bwrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/_setup.sh installs it)")
    result = subprocess.run(["bash", str(ROOT / "scripts" / "fresh-root"), "bash", "-c", INSIDE],
                            capture_output=True, text=True, timeout=3600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "python3: Python 3.11." in result.stdout and "at /usr/bin/python3" in result.stdout
    assert "[setup] apt-get install" in result.stderr      # the set-up really installed
    built = re.search(r"built: (tightbind-\S+\.whl)", result.stdout)
    assert built and "-cp310-abi3-manylinux_2_31_x86_64" in built.group(1), output[-4000:]
    assert "loaded from /tmp/wheel-venv/lib/python3.11/site-packages/tightbind/" \
        in result.stdout, output[-4000:]
    assert "tightbind.libs" in result.stdout, result.stdout[-3000:]
    PASSES.mkdir(parents=True, exist_ok=True)
    stamp.write_text(output)
