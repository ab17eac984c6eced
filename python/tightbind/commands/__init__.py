"""Subcommands of ``python -m tightbind``: one module each.

A command module has ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``.  Commands whose module is absent are simply not offered.
"""

COMMANDS = ("ocr", "models", "chain", "p12", "bench", "info")
