"""The native layer's declarations: every status code is mapped, every cdef name is used.

Each area's C header defines its status codes once (``TB_E_*`` shared in tightbind.h,
``TB_<AREA>_E_*`` its own); each area's ``_native.FAILURES`` must turn every one into an
exception with a sentence.  Each cdef declaration exists for Python to call: one that no
module under python/ uses is dead weight and is flagged.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import build_ffi
from conftest import ROOT

AREAS = {"frame": "framing", "ocr": "ocr", "tls": "tls"}
PYTHON_SOURCES = "\n".join(path.read_text(encoding="utf-8")
                           for path in sorted((ROOT / "python").rglob("*.py")))


def failure_codes(area: str) -> set[str]:
    """Names of the failure codes (negative values) C functions of ``area`` can return."""
    names = set()
    for header in ("tightbind.h", f"{area}.h"):
        text = (ROOT / "csrc" / header).read_text(encoding="utf-8")
        names |= set(re.findall(r"^#define\s+(TB_(?:[A-Z]+_)?E_[A-Z0-9_]+)\s+\(-\d+\)", text, re.M))
    return names


@pytest.mark.parametrize("area", AREAS)
def test_every_status_code_has_an_exception_and_a_sentence(area):
    native = importlib.import_module(f"tightbind.{AREAS[area]}._native")
    codes = failure_codes(area)
    assert codes, f"no failure codes found in csrc/{area}.h"
    missing = [name for name in sorted(codes) if getattr(native.lib, name) not in native.FAILURES]
    assert not missing, f"tightbind.{AREAS[area]}._native.FAILURES lacks {missing}"
    for code, (exception, sentence) in native.FAILURES.items():
        assert code < 0
        assert issubclass(exception, BaseException)
        text = sentence() if callable(sentence) else sentence
        assert text and not re.search(r"code -?\d", text), (code, text)


@pytest.mark.parametrize("area", AREAS)
def test_check_raises_from_the_table(area):
    native = importlib.import_module(f"tightbind.{AREAS[area]}._native")
    assert native.check(0, "anything") == 0
    for code, (exception, _sentence) in native.FAILURES.items():
        with pytest.raises(exception, match=r"^calling tb_x: ") as info:
            native.check(code, "calling tb_x")
        assert "(code" not in str(info.value)


def cdef_names(area: str) -> set[str]:
    """Function, #define and shim type names of an area's cdef."""
    cdef = re.sub(r"/\*.*?\*/", "", build_ffi.cdef_for(area), flags=re.S)
    functions = set(re.findall(r"\b([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*;", cdef))
    defines = set(re.findall(r"^#define\s+(\w+)", cdef, re.M))
    shim_types = set(re.findall(r"}\s*(tb_\w+)\s*;", cdef))
    return functions | defines | shim_types


@pytest.mark.parametrize("area", AREAS)
def test_every_cdef_name_is_used_under_python(area):
    names = cdef_names(area)
    assert len(names) > 5
    unused = sorted(name for name in names
                    if not re.search(rf"\b{re.escape(name)}\b", PYTHON_SOURCES))
    assert not unused, f"declared for cffi but used nowhere under python/: {unused}"


def test_bindings_declare_no_shim_symbol():
    for path in sorted((ROOT / "bindings").glob("*.h")):
        assert not re.search(r"\btb_|\bTB_", path.read_text(encoding="utf-8")), path


def test_shim_symbols_carry_their_area_prefix():
    for area in AREAS:
        cdef = build_ffi.shim_declarations(f"{area}.h")
        cdef = re.sub(r"/\*.*?\*/", "", cdef, flags=re.S)
        names = set(re.findall(r"\b(tb_\w+)\s*\(", cdef))
        names |= set(re.findall(r"}\s*(tb_\w+)\s*;", cdef))
        wrong = sorted(name for name in names if not name.startswith(f"tb_{area}_"))
        assert not wrong, f"csrc/{area}.h: {wrong} lack the tb_{area}_ prefix"


def test_every_c_function_carries_its_area_prefix():
    """Statics and inline helpers too: a reader finds any tb_ name's area from its name."""
    for area in AREAS:
        for path in sorted((ROOT / "csrc").glob(f"{area}*.[ch]")):
            text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
            defined = set(re.findall(r"^[A-Za-z_][\w \t\*]*?\b(tb_\w+)\s*\([^;]*?\)\s*\{",
                                     text, flags=re.M | re.S))
            wrong = sorted(name for name in defined if not name.startswith(f"tb_{area}_"))
            assert not wrong, f"{path.name}: {wrong} lack the tb_{area}_ prefix"


def test_headers_exist_for_every_area():
    for area in AREAS:
        assert Path(ROOT / "csrc" / f"{area}.h").exists()
