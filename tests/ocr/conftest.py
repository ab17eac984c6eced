"""Fixtures of the OCR tests (rendered pages and phototest are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tightbind.ocr import TessApi


@pytest.fixture(scope="module")
def api():
    with TessApi() as engine:
        yield engine
