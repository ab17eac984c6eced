"""Sphinx configuration of tightbind's documentation (``bash scripts/docs`` builds it).

Pages are Markdown (MyST), so a page's ```python blocks run in the test suite the same
way the README's do (tests/packaging/test_readme.py); the API reference is generated
from the docstrings by autodoc, importing the package from ``python/`` of this tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This tree's sources when its native modules are built in place (python build_ffi.py,
# as scripts/docs does); otherwise the installed tightbind, built from this tree by the
# set-up.
if list((HERE.parent / "python" / "tightbind").glob("_frame.*.so")):
    sys.path.insert(0, str(HERE.parent / "python"))
sys.path.insert(0, str(HERE))

project = "tightbind"
author = "the tightbind developers"
copyright = "2026, the tightbind developers"

import tightbind  # noqa: E402

release = version = tightbind.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "_charts",
    "_xref",
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4
exclude_patterns = ["_build", "**/_build", "_generated"]
suppress_warnings: list[str] = []

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_inherit_docstrings = True
# The extension modules are built in place (python build_ffi.py) or installed; without
# them the areas that need them cannot be imported, and the build says so.
autodoc_mock_imports: list[str] = []

html_theme = "alabaster"
html_title = f"tightbind {release}"
html_theme_options = {
    "description": "Small, fast native bindings: OCR, TLS, protobuf framing",
    "page_width": "1100px",
    "sidebar_width": "240px",
}

# Cross-references are checked (nitpicky, and -W in scripts/docs): a reference to a
# tightbind name that does not exist fails the build.  The standard library's and other
# packages' names cannot be resolved without their inventories, which this build does
# not download, so those are the only ones let through.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(os|io|datetime|collections|collections\.abc|typing|socket|ssl|asyncio|"
               r"pathlib|enum|concurrent\.futures|types|array|mmap|threading|subprocess|"
               r"numpy|PIL|google|cryptography|distributed|dask|tqdm|pypdfium2|pikepdf|"
               r"pandas|_io|_ssl|_socket)(\..*)?"),
    (r"py:class", r"(str|bytes|bytearray|memoryview|int|float|bool|object|dict|list|tuple|"
                  r"set|frozenset|type|None|NoneType|Exception|BaseException|ValueError|"
                  r"TypeError|LookupError|KeyError|OSError|EOFError|TimeoutError|"
                  r"MemoryError|ConnectionError|FileNotFoundError|NotImplementedError|"
                  r"RuntimeError|DeprecationWarning|UserWarning|Warning|ImportError|"
                  r"ArithmeticError|IndexError|UnicodeError)"),
    (r"py:(class|data|obj)", r"(Ellipsis|Any|Callable|Iterable|Iterator|Sequence|Mapping|"
                             r"Optional|Union|Literal|Self|PathLike|Path|ffi\..*|_cffi_backend\..*|"
                             r"CData|FFI|PathArg|Image\.Image)"),
    # Private names are not documented on purpose (a base class or a type in a signature).
    (r"py:.*", r"(.*\.)?_[A-Za-z]\w*(\..*)?"),
]
