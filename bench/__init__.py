"""The repository's benchmarks: tightbind against other packages.

``bash scripts/bench [AREA ...] [--json] [--quick]`` runs ``python -m bench`` with the
installed tightbind.  Each area module here has ``run(quick) -> list[Table]``: it runs
the installed ``tightbind.bench`` area's own comparisons (native against pure, options
against options, threads against one) and adds the contenders of other packages, which
it installs into virtual environments of their own (``_venvs``) when they cannot share
this one: pytesseract, tesserocr, OCRmyPDF, cryptography, pyOpenSSL, sslyze, and
protobufp 0.2.4 re-created (``_protobufp024``).  The report has the shape of
``tightbind bench --json`` (``docs/_charts.py`` draws the docs' charts from it).

This package is repository tooling: it is not in the wheel or the sdist, and the tests
that use its corpus (``pdfcorpus``) import it from the checkout.
"""

AREAS = ("framing", "ocr", "tls", "batch", "pdf")
