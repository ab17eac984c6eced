"""``python -m tightbind`` (also the ``tightbind`` console script)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from tightbind import __version__
from tightbind.commands import COMMANDS

DESCRIPTION = ("tightbind from the command line: OCR with Tesseract, a server's certificate "
               "chain, PKCS#12 files, and the benchmarks.")
EPILOG = "Run 'tightbind COMMAND --help' for a command's options."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tightbind", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version",
                        version=f"tightbind {__version__} (native libraries: tightbind info)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if importlib.util.find_spec(f"tightbind.commands.{name}") is None:
            continue
        module = importlib.import_module(f"tightbind.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP,
                                 epilog=getattr(module, "EPILOG", None))
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status.  A reader that closes the pipe early (``| head``)
    ends the command quietly with status 141, as a Unix tool killed by SIGPIPE."""
    args = build_parser().parse_args(argv)
    try:
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Python would report the failed flush of stdout at exit: point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


if __name__ == "__main__":
    sys.exit(main())
