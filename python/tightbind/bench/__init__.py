"""Benchmarks behind ``tightbind bench``: one module per area.

Each area module has ``run(quick: bool) -> list[Table]`` and measures what the installed
package can compare by itself.  The source repository's ``bench/`` package (``bash
scripts/bench``) adds the contests against other packages to the same tables.  Speed is
measured here, by the benchmark command, and never asserted by a timed test.
"""

AREAS = ("framing", "ocr", "tls", "batch")
