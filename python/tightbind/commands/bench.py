"""``tightbind bench``: run the benchmarks and print one report."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from tightbind import __version__
from tightbind.bench import AREAS
from tightbind.bench._report import SUMMARY_COLUMNS, Table, machine, steady_malloc

HELP = "measure tightbind against pure-Python paths and installed peers"

# A benchmark's missing import -> the extra of tightbind that brings it.
_EXTRAS = {"google": "protobuf", "PIL": "images", "numpy": "images",
           "pypdfium2": "pdf", "pikepdf": "pdf", "img2pdf": "pdf", "distributed": "dask"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("areas", nargs="*", metavar="AREA",
                        help=f"areas to run ({', '.join(AREAS)}; default all)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and smaller inputs (a smoke run, not figures)")
    parser.add_argument("--pages", type=int, default=None,
                        help="A4 pages the batch area runs (default 6)")
    parser.add_argument("--rss-pages", type=int, default=None, metavar="N",
                        help="batch area: also run N small pages through run_batch and "
                        "report the driver's RSS every N/20 pages (e.g. 2000)")


def versions(areas: list[str]) -> dict[str, str]:
    """The versions behind the figures: tightbind, cffi, and what each area reports."""
    import cffi

    found = {"tightbind": __version__, "cffi": cffi.__version__}
    for area in areas:
        module = importlib.import_module(f"tightbind.bench.{area}")
        try:
            found.update(getattr(module, "versions", dict)())
        except ImportError:
            continue
    return found


def run(args: argparse.Namespace) -> int:
    areas = args.areas or list(AREAS)
    if args.pages is not None:
        os.environ["TIGHTBIND_BENCH_PAGES"] = str(args.pages)
    if args.rss_pages is not None:
        os.environ["TIGHTBIND_BENCH_RSS_PAGES"] = str(args.rss_pages)
    unknown = [area for area in areas if area not in AREAS]
    if unknown:
        print(f"tightbind bench: unknown area {unknown[0]!r} (choose from {', '.join(AREAS)})",
              file=sys.stderr)
        return 2
    report: dict[str, Any] = {"machine": machine(), "versions": versions(areas), "tables": []}
    report["machine"]["malloc"] = steady_malloc()
    if not args.json:
        info = report["machine"]
        print(f"tightbind bench on {info['cpu']} ({info['cores']} cores), {info['system']}, "
              f"{info['python']}")
        print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
        if info["malloc"]:
            print(info["malloc"])
        print(f"command: {info['command']}, {info['date']}\n", flush=True)
    summary = Table("summary", SUMMARY_COLUMNS)
    status = 0
    for area in areas:
        module = importlib.import_module(f"tightbind.bench.{area}")
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
            report["tables"].append(table.to_dict())
            summary.rows.extend([area, *row] for row in table.headlines)
            if not args.json:
                print(table.render() + "\n", flush=True)
    report["summary"] = summary.to_dict()
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    elif summary.rows:
        print(summary.render())
    return status
