"""TightOCR's adapter modules: ``api_adapter`` (Tesseract) and ``lept_adapter`` (Leptonica)."""
