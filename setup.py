"""Build script: the pure-Python packages under python/ plus one cffi module per area.

Which native modules are built is decided by build_ffi.cffi_modules(): an area whose
system libraries are missing is skipped with a message (or fails the build when
TIGHTBIND_REQUIRE names it).
"""

import os
import sys

from setuptools import find_packages, setup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_ffi

setup(
    package_dir={"": "python"},
    packages=find_packages("python"),
    package_data={"tightbind": ["py.typed"]},
    cffi_modules=build_ffi.cffi_modules(),
    zip_safe=False,
)
