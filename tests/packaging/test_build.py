"""The build keeps one missing system library from costing the whole package."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from conftest import ROOT

SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import build_ffi
print(build_ffi.cffi_modules())
"""


def run_build_ffi(env_updates):
    import os

    env = {**os.environ, **env_updates}
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, cwd=ROOT)


def test_all_areas_build_here():
    result = run_build_ffi({"TIGHTBIND_REQUIRE": "all"})
    assert result.returncode == 0, result.stderr
    assert "build_ffi.py:build_frame" in result.stdout


def test_missing_libraries_skip_their_area_only():
    # An empty pkg-config search path stands in for a machine without the -dev packages.
    result = run_build_ffi({"PKG_CONFIG_LIBDIR": "/nonexistent", "PKG_CONFIG_PATH": "",
                            "TIGHTBIND_REQUIRE": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['build_ffi.py:build_frame']"
    for area, package in (("ocr", "libtesseract-dev"), ("tls", "libssl-dev")):
        if (ROOT / "bindings" / f"{area}.h").exists():
            assert f"skipping tightbind._{area}" in result.stderr
            assert package in result.stderr


def test_required_area_that_cannot_build_fails_with_the_package_name():
    if not (ROOT / "bindings" / "tls.h").exists():
        pytest.skip("the TLS area is not in this tree")
    result = run_build_ffi({"PKG_CONFIG_LIBDIR": "/nonexistent", "PKG_CONFIG_PATH": "",
                            "TIGHTBIND_REQUIRE": "tls"})
    assert result.returncode != 0
    assert "libssl-dev" in result.stderr


def test_unknown_required_area_is_an_error():
    result = run_build_ffi({"TIGHTBIND_REQUIRE": "gpu"})
    assert result.returncode != 0
    assert "unknown areas: gpu" in result.stderr


@pytest.mark.parametrize("area, package", [("frame", "build-essential"),
                                           ("ocr", "libtesseract-dev"),
                                           ("tls", "libssl-dev")])
def test_missing_native_module_import_error_names_packages(monkeypatch, area, package):
    from tightbind import _native

    # A None entry in sys.modules makes the import fail, as a module never built would.
    monkeypatch.setitem(sys.modules, f"tightbind._{area}", None)
    with pytest.raises(ImportError, match=package):
        _native.load(area)
    assert not _native.available(area)


def test_pure_backend_works_without_the_native_module(monkeypatch, protos):
    from tightbind import framing

    monkeypatch.setitem(sys.modules, "tightbind._frame", None)
    # As on a machine where it was never built: the module that loads it is not imported.
    monkeypatch.delitem(sys.modules, "tightbind.framing._native", raising=False)
    point = protos.shapes.Point
    processor = framing.Processor([point])
    assert processor.backend == "pure"
    processor.push(processor.serializer.serialize(point(x=2)))
    assert processor.read_messages() == [point(x=2)]
    with pytest.raises(ImportError, match="build-essential"):
        framing.Processor([point], backend="native")


def test_package_imports_without_optional_areas():
    code = ("import sys; sys.modules['tightbind._ocr'] = None; "
            "sys.modules['tightbind._tls'] = None; "
            "import tightbind, tightbind.framing; print(tightbind.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == importlib.import_module("tightbind").__version__
