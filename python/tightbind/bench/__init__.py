"""Benchmarks behind ``python -m tightbind bench``: one module per area.

Each area module has ``run(quick: bool) -> list[Table]``.  Speed is measured here, by
the benchmark command, and never asserted by a timed test.
"""

AREAS = ("framing", "ocr", "tls", "batch", "pdf")
