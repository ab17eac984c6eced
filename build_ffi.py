"""Build tightbind's native modules: one API-mode cffi extension per area.

Each area's cdef is what cffi is told about the third-party library
(``bindings/<area>.h``, when the area calls one) followed by the shim's own declarations,
written once in ``csrc/tightbind.h`` and ``csrc/<area>.h`` between ``/* cffi:begin */``
and ``/* cffi:end */`` comments (see :func:`cdef_for`).  The C sources are in ``csrc/``
(our shim, every symbol prefixed ``tb_``); the system libraries are found by pkg-config.
An area whose libraries are missing is skipped with a message naming the Debian
packages to install, so a machine without Tesseract still gets framing and TLS.
Set ``TIGHTBIND_REQUIRE=all`` (or a comma list such as ``ocr,tls``) to turn a skip into
a build failure; the project's own scripts do, so CI cannot pass with a part missing.

``setup.py`` asks :func:`cffi_modules` which areas to build.  ``python build_ffi.py``
compiles every available area in place under ``python/tightbind`` for quick iteration.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import NamedTuple

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


class Area(NamedTuple):
    name: str
    sources: tuple[str, ...]
    pkgconfig: tuple[str, ...] = ()
    apt_packages: tuple[str, ...] = ()
    extra_compile_args: tuple[str, ...] = ()
    extra_link_args: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return f"tightbind._{self.name}"


AREAS = {
    "frame": Area("frame", sources=("csrc/frame.c",)),
    "ocr": Area(
        "ocr",
        sources=("csrc/ocr.c", "csrc/ocr_image.c", "csrc/ocr_raster.c",
                 "csrc/ocr_layout.cpp"),
        pkgconfig=("tesseract", "lept", "libjpeg", "zlib"),
        apt_packages=("libtesseract-dev", "libleptonica-dev", "libjpeg-dev", "zlib1g-dev",
                      "pkg-config"),
        libraries=("stdc++",),  # ocr_layout.cpp uses Tesseract's C++ iterators
    ),
    "tls": Area(
        "tls",
        sources=("csrc/tls.c", "csrc/tls_x509.c", "csrc/tls_pkcs12.c", "csrc/tls_verify.c",
                 "csrc/tls_conn.c", "csrc/tls_crypto_keys.c", "csrc/tls_crypto_x509.c",
                 "csrc/tls_revoke.c", "csrc/tls_kdf.c", "csrc/tls_req.c",
                 "csrc/tls_p12_write.c", "csrc/tls_store.c", "csrc/tls_crl.c"),
        pkgconfig=("libssl", "libcrypto"),
        apt_packages=("libssl-dev", "pkg-config"),
    ),
}

COMMON_COMPILE_ARGS = ("-O2", "-Wall", "-Wextra", "-Wno-unused-parameter")


def _run_pkg_config(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("pkg-config")
    if exe is None:
        raise FileNotFoundError("pkg-config")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=False)


def pkg_config_flags(modules: tuple[str, ...]) -> dict[str, list[str]]:
    """Return Extension keyword arguments for ``modules``; raise LookupError if missing."""
    flags: dict[str, list[str]] = {
        "include_dirs": [],
        "library_dirs": [],
        "libraries": [],
        "extra_compile_args": [],
        "extra_link_args": [],
    }
    if not modules:
        return flags
    try:
        found = _run_pkg_config("--exists", *modules)
    except FileNotFoundError:
        raise LookupError("pkg-config is not installed") from None
    if found.returncode != 0:
        raise LookupError(f"pkg-config cannot find {' '.join(modules)}")
    cflags = shlex.split(_run_pkg_config("--cflags", *modules).stdout)
    libs = shlex.split(_run_pkg_config("--libs", *modules).stdout)
    for flag in cflags:
        if flag.startswith("-I"):
            flags["include_dirs"].append(flag[2:])
        else:
            flags["extra_compile_args"].append(flag)
    for flag in libs:
        if flag.startswith("-L"):
            flags["library_dirs"].append(flag[2:])
        elif flag.startswith("-l"):
            flags["libraries"].append(flag[2:])
        else:
            flags["extra_link_args"].append(flag)
    return flags


def in_tree(area: Area) -> bool:
    """True when the area's header and C sources are in this source tree."""
    paths = (f"csrc/{area.name}.h", *area.sources)
    return all(os.path.exists(os.path.join(HERE, path)) for path in paths)


_CDEF_BLOCK = re.compile(r"/\* cffi:begin \*/\n(.*?)/\* cffi:end \*/", re.S)
_DEFINE = re.compile(r"^(#define\s+\w+)\s+\S.*$", re.M)


def shim_declarations(header: str) -> str:
    """The declarations between the cffi markers of ``csrc/<header>``, every ``#define``
    value replaced by ``...`` so that the compiler, not a copy, supplies it."""
    with open(os.path.join(HERE, "csrc", header), encoding="utf-8") as fh:
        blocks = _CDEF_BLOCK.findall(fh.read())
    if not blocks:
        raise RuntimeError(f"csrc/{header} has no /* cffi:begin */ ... /* cffi:end */ block")
    return "\n".join(_DEFINE.sub(r"\1 ...", block) for block in blocks)


def cdef_for(name: str) -> str:
    """The whole cdef of one area: third-party bindings, shared codes, the area's shim."""
    parts = []
    bindings = os.path.join(HERE, "bindings", f"{name}.h")
    if os.path.exists(bindings):
        with open(bindings, encoding="utf-8") as fh:
            parts.append(fh.read())
    parts.append(shim_declarations("tightbind.h"))
    parts.append(shim_declarations(f"{name}.h"))
    return "\n".join(parts)


def missing_reason(area: Area) -> str | None:
    """Say why ``area`` cannot be built here, or return None when it can."""
    if not in_tree(area):
        return "its sources are not in this tree"
    try:
        pkg_config_flags(area.pkgconfig)
    except LookupError as exc:
        return f"{exc}; install {' '.join(area.apt_packages)}"
    return None


def make_ffi(name: str, *, absolute_paths: bool = False) -> FFI:
    """The FFI builder for one area.  setuptools wants source paths relative to
    setup.py; ``ffi.compile()`` works in a temporary folder and needs absolute ones."""
    area = AREAS[name]
    reason = missing_reason(area)
    if reason is not None:
        raise RuntimeError(f"cannot build {area.module}: {reason}")
    flags = pkg_config_flags(area.pkgconfig)

    def path(relative: str) -> str:
        return os.path.join(HERE, relative) if absolute_paths else relative

    ffi = FFI()
    ffi.cdef(cdef_for(name))
    ffi.set_source(
        area.module,
        '#include "tightbind.h"\n',
        sources=[path(source) for source in area.sources],
        include_dirs=[path("csrc"), *flags["include_dirs"]],
        library_dirs=flags["library_dirs"],
        libraries=[*flags["libraries"], *area.libraries],
        extra_compile_args=[
            *COMMON_COMPILE_ARGS,
            *flags["extra_compile_args"],
            *area.extra_compile_args,
        ],
        extra_link_args=[*flags["extra_link_args"], *area.extra_link_args],
        define_macros=[(f"TB_WITH_{name.upper()}", "1")],
    )
    return ffi


def build_frame() -> FFI:
    return make_ffi("frame")


def build_ocr() -> FFI:
    return make_ffi("ocr")


def build_tls() -> FFI:
    return make_ffi("tls")


def _required() -> set[str]:
    value = os.environ.get("TIGHTBIND_REQUIRE", "").strip()
    if value == "all":
        return set(AREAS)
    return {part.strip() for part in value.split(",") if part.strip()}


def cffi_modules() -> list[str]:
    """The ``cffi_modules`` entries for setup.py: every area this machine can build."""
    required = _required()
    unknown = required - set(AREAS)
    if unknown:
        raise SystemExit(f"TIGHTBIND_REQUIRE names unknown areas: {', '.join(sorted(unknown))}")
    entries = []
    for name, area in AREAS.items():
        if not in_tree(area):
            continue
        reason = missing_reason(area)
        if reason is None:
            entries.append(f"build_ffi.py:build_{name}")
        elif name in required:
            raise SystemExit(f"tightbind: {area.module} is required but {reason}")
        else:
            print(f"tightbind: skipping {area.module}: {reason}", file=sys.stderr)
    return entries


if __name__ == "__main__":
    os.chdir(HERE)
    for entry in cffi_modules():
        name = entry.rsplit("_", 1)[1]
        make_ffi(name, absolute_paths=True).compile(tmpdir="build/inplace", verbose=True)
        for built in glob.glob(f"build/inplace/tightbind/_{name}.*.so"):
            shutil.copy2(built, "python/tightbind/")
            print(f"built {os.path.join('python/tightbind', os.path.basename(built))}")
