"""``python -m tightbind`` (also the ``tightbind`` console script)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from tightbind import __version__
from tightbind.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tightbind", description=__doc__)
    parser.add_argument("--version", action="version",
                        version=f"tightbind {__version__} (native libraries: tightbind info)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if importlib.util.find_spec(f"tightbind.commands.{name}") is None:
            continue
        module = importlib.import_module(f"tightbind.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
