"""``python -m bench`` (what ``bash scripts/bench`` runs): every area's tables and the
contests against other packages, in one report."""

from __future__ import annotations

import argparse
import sys

from bench import AREAS
from tightbind.commands.bench import add_arguments, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description="tightbind's benchmarks and its contests against "
        "other packages (the installed tightbind is measured)")
    add_arguments(parser, AREAS)
    args = parser.parse_args(argv)
    command = " ".join(["bash scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    return report(args, "bench", AREAS, command, prog="scripts/bench")


if __name__ == "__main__":
    sys.exit(main())
