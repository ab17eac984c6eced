"""``tightbind bench``: run the benchmarks and print one report.

The installed command measures what the installed package can compare by itself:
native against pure framing, Tesseract's speed settings against each other, threads
against one, Dask against threads, and the platform it runs on (CPython's ``ssl``, the
``openssl`` command).  The contests against other packages (pytesseract, tesserocr,
OCRmyPDF, cryptography, pyOpenSSL, sslyze, protobufp 0.2.4), which build virtual
environments and install those packages, live in the source repository's ``bench/``,
run by ``bash scripts/bench``; they reuse :func:`report` for the same report.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from tightbind import __version__
from tightbind.bench import AREAS
from tightbind.bench._report import SUMMARY_COLUMNS, Table, machine, steady_malloc

HELP = "measure tightbind's own paths against each other (native vs pure, options, threads)"
EPILOG = ("The contests against other packages (pytesseract, tesserocr, OCRmyPDF, "
          "cryptography, pyOpenSSL, sslyze, protobufp 0.2.4) live in the source "
          "repository: 'bash scripts/bench' in a checkout runs them and everything here.")

# Areas only the repository's bench runs, and why.
REPOSITORY_AREAS = {"pdf": "searchable PDFs against OCRmyPDF"}

# A benchmark's missing import -> the extra of tightbind that brings it.
_EXTRAS = {"google": "protobuf", "PIL": "images", "numpy": "images",
           "pypdfium2": "pdf", "pikepdf": "pdf", "img2pdf": "pdf", "distributed": "dask"}


def add_arguments(parser: argparse.ArgumentParser, areas: Sequence[str] = AREAS) -> None:
    parser.add_argument("areas", nargs="*", metavar="AREA",
                        help=f"areas to run ({', '.join(areas)}; default all)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and smaller inputs (a smoke run, not figures)")
    parser.add_argument("--pages", type=int, default=None,
                        help="A4 pages the batch area runs (default 6)")
    parser.add_argument("--rss-pages", type=int, default=None, metavar="N",
                        help="batch area: also run N small pages through run_batch and "
                        "report the driver's RSS every N/20 pages (e.g. 2000)")


def versions(package: str, areas: list[str]) -> dict[str, str]:
    """The versions behind the figures: tightbind, cffi, and what each area reports."""
    import cffi

    found = {"tightbind": __version__, "cffi": cffi.__version__}
    for area in areas:
        module = importlib.import_module(f"{package}.{area}")
        try:
            found.update(getattr(module, "versions", dict)())
        except ImportError:
            continue
    return found


def run(args: argparse.Namespace) -> int:
    for area in args.areas:
        if area in REPOSITORY_AREAS:
            print(f"tightbind bench: {area!r} ({REPOSITORY_AREAS[area]}) is a contest against "
                  "another package: run 'bash scripts/bench pdf' in a checkout of the "
                  "source repository", file=sys.stderr)
            return 2
    command = " ".join([os.path.basename(sys.executable), "-m", "tightbind", *sys.argv[1:]])
    status = report(args, "tightbind.bench", AREAS, command, prog="tightbind bench")
    if not args.json:
        print(f"\n{EPILOG}")
    return status


def report(args: argparse.Namespace, package: str, known: Sequence[str], command: str,
           prog: str) -> int:
    """Run ``args.areas`` (each ``{package}.{area}`` with ``run(quick)`` returning
    tables) and print the text or JSON report; 2 for an unknown area, 1 when an area
    was skipped for a missing import."""
    areas = args.areas or list(known)
    if args.pages is not None:
        os.environ["TIGHTBIND_BENCH_PAGES"] = str(args.pages)
    if args.rss_pages is not None:
        os.environ["TIGHTBIND_BENCH_RSS_PAGES"] = str(args.rss_pages)
    unknown = [area for area in areas if area not in known]
    if unknown:
        print(f"{prog}: unknown area {unknown[0]!r} (choose from {', '.join(known)})",
              file=sys.stderr)
        return 2
    result: dict[str, Any] = {"machine": machine(command), "versions": versions(package, areas),
                              "tables": []}
    result["machine"]["malloc"] = steady_malloc()
    if not args.json:
        info = result["machine"]
        print(f"{prog} on {info['cpu']} ({info['cores']} cores), {info['system']}, "
              f"{info['python']}")
        print("versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()))
        if info["malloc"]:
            print(info["malloc"])
        print(f"command: {info['command']}, {info['date']}\n", flush=True)
    summary = Table("summary", SUMMARY_COLUMNS)
    status = 0
    for area in areas:
        module = importlib.import_module(f"{package}.{area}")
        try:
            tables = module.run(quick=args.quick)
        except ImportError as exc:
            top = (exc.name or "").split(".")[0]
            hint = (f" (install it with: pip install 'tightbind[{_EXTRAS[top]}]')"
                    if top in _EXTRAS else "")
            print(f"{area}: skipped: {exc}{hint}", file=sys.stderr)
            status = 1
            continue
        for table in tables:
            result["tables"].append(table.to_dict())
            summary.rows.extend([area, *row] for row in table.headlines)
            if not args.json:
                print(table.render() + "\n", flush=True)
    result["summary"] = summary.to_dict()
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    elif summary.rows:
        print(summary.render())
    return status
