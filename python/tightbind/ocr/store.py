"""The output folder of a batch: documents' outputs, the manifest and what a re-run skips.

Layout of ``OUT``::

    OUT/<input name>.<ext>            one file per document and format, mirroring the inputs
    OUT/manifest.jsonl                one JSON record per page, appended as documents finish
    OUT/.tightbind/pages/<key>/       finished pages of unfinished documents
    OUT/.tightbind/done/<key>.json    finished documents
    OUT/.tightbind/commit.json        a document's finish in progress (a redo record)

``key`` hashes the input's name, its content (SHA-256) and the options.  Every file is
written to a temporary name in its folder and renamed into place, so a kill at any moment
leaves whole files or none (the next run removes the temporary files); a page counts as
done once its ``<index>.done`` exists.  A document is finished in one step: its manifest
lines, the manifest's length before them and its done record go to ``commit.json`` first;
then the lines are appended and the done record written.  A run killed in between is
completed by the next one (manifest cut back to that length, lines appended again), so
the manifest holds each page once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from tightbind.ocr._native import c_string, ffi, lib
from tightbind.ocr.errors import OcrError
from tightbind.ocr.inputs import Document
from tightbind.ocr.pdfgraft import searchable_pdf
from tightbind.ocr.workers import FORMAT_EXTENSIONS, PageOutcome

__all__ = ["MANIFEST", "OutputStore", "document_key"]

MANIFEST = "manifest.jsonl"
_STATE = ".tightbind"
_COMMIT = "commit.json"
_TEMPORARY = ".tightbind-tmp-"
_FOOTERS = {"hocr": b" </body>\n</html>\n", "alto": b"\t</Layout>\n</alto>\n", "tsv": b""}
_RENDERERS = {"hocr": lib.TessHOcrRendererCreate, "alto": lib.TessAltoRendererCreate,
              "tsv": lib.TessTsvRendererCreate}


def document_key(document: Document, fingerprint: str) -> str:
    """What identifies a document's work: its name, its content and the options."""
    text = "\0".join((document.name, document.sha256, fingerprint))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=_TEMPORARY, dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _document_frame(fmt: str, title: str) -> tuple[bytes, bytes]:
    """The header and footer Tesseract's ``fmt`` renderer writes around its pages."""
    if fmt not in _RENDERERS:
        return b"", b""
    with tempfile.TemporaryDirectory(prefix="tightbind-frame-") as folder:
        base = os.path.join(folder, "frame")
        renderer = _RENDERERS[fmt](c_string(base, "outputbase"))
        if renderer == ffi.NULL:
            raise OcrError(f"cannot create the {fmt} renderer")
        try:
            ok = (lib.TessResultRendererBeginDocument(renderer, c_string(title, "title"))
                  and lib.TessResultRendererEndDocument(renderer))
        finally:
            lib.TessDeleteResultRenderer(renderer)
        if not ok:
            raise OcrError(f"Tesseract could not write an empty {fmt} document")
        with open(f"{base}.{FORMAT_EXTENSIONS[fmt]}", "rb") as file:
            empty = file.read()
    footer = _FOOTERS[fmt]
    if not empty.endswith(footer):
        raise OcrError(f"unexpected end of Tesseract's {fmt} document")
    return empty[:len(empty) - len(footer)], footer


class OutputStore:
    """The output folder ``root`` of a batch writing ``formats``."""

    def __init__(self, root: str | os.PathLike[str], formats: Sequence[str]) -> None:
        self.root = os.fspath(root)
        self.formats = tuple(formats)
        self.manifest_path = os.path.join(self.root, MANIFEST)
        self._state = os.path.join(self.root, _STATE)
        os.makedirs(os.path.join(self._state, "pages"), exist_ok=True)
        os.makedirs(os.path.join(self._state, "done"), exist_ok=True)
        self._sweep()
        self._redo()

    def _sweep(self) -> None:
        """Remove the temporary files a killed run left behind."""
        for folder, _, files in os.walk(self.root):
            for name in files:
                if name.startswith(_TEMPORARY):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))

    def _redo(self) -> None:
        """Complete the finish a killed run left half done (see the module's docstring)."""
        path = os.path.join(self._state, _COMMIT)
        try:
            with open(path, encoding="utf-8") as file:
                commit = json.load(file)
        except FileNotFoundError:
            return
        except ValueError:  # not possible (written atomically), but never fatal
            os.unlink(path)
            return
        self._apply(commit)

    def _apply(self, commit: dict[str, Any]) -> None:
        with open(self.manifest_path, "ab", buffering=0) as file:
            file.truncate(commit["offset"])
            file.write(commit["lines"].encode())
            os.fsync(file.fileno())
        if commit["key"] is not None:
            write_atomically(self._done_path(commit["key"]), json.dumps(commit["done"]).encode())
        os.unlink(os.path.join(self._state, _COMMIT))

    # ---- what is done -------------------------------------------------------------------

    def _done_path(self, key: str) -> str:
        return os.path.join(self._state, "done", f"{key}.json")

    def _pages_folder(self, key: str) -> str:
        return os.path.join(self._state, "pages", key)

    def finished(self, key: str) -> dict[str, Any] | None:
        """The record of a finished document whose outputs are all in place, or None."""
        try:
            with open(self._done_path(key), encoding="utf-8") as file:
                record: dict[str, Any] = json.load(file)
        except (OSError, ValueError):
            return None
        if all(os.path.exists(os.path.join(self.root, name)) for name in record["outputs"]):
            return record
        return None

    def finished_pages(self, key: str) -> set[int]:
        """Indexes of the pages of an unfinished document already done."""
        try:
            names = os.listdir(self._pages_folder(key))
        except FileNotFoundError:
            return set()
        return {int(name[:-5]) for name in names if re.fullmatch(r"\d+\.done", name)}

    # ---- writing ------------------------------------------------------------------------

    def save_page(self, key: str, outcome: PageOutcome) -> None:
        """Keep a finished page (its parts, then its record: the commit point)."""
        folder = self._pages_folder(key)
        for fmt, data in (outcome.parts or {}).items():
            write_atomically(os.path.join(folder, f"{outcome.index}.{fmt}"), data)
        record: dict[str, Any] = {"status": "ok" if outcome.ok else "failed",
                  "seconds": round(outcome.seconds, 3)}
        if not outcome.ok:
            record["error"] = {"class": outcome.error_class, "message": outcome.error_message}
        record.update(outcome.notes or {})
        write_atomically(os.path.join(folder, f"{outcome.index}.done"),
                         json.dumps(record).encode())

    def output_name(self, document: Document, fmt: str) -> str:
        return f"{document.name}.{FORMAT_EXTENSIONS[fmt]}"

    def finish(self, document: Document, key: str, pages: int) -> list[dict[str, Any]]:
        """Write the outputs of a document whose ``pages`` are all done, append one
        manifest record per page and return those records."""
        folder = self._pages_folder(key)
        records: list[dict[str, Any]] = []
        good = []
        for index in range(pages):
            with open(os.path.join(folder, f"{index}.done"), encoding="utf-8") as file:
                page = json.load(file)
            records.append({"input": document.name, "page": index + 1, **page})
            if page["status"] == "ok":
                good.append(index)
        outputs: list[str] = []
        if good:
            for fmt in self.formats:
                parts = []
                for index in good:
                    with open(os.path.join(folder, f"{index}.{fmt}"), "rb") as file:
                        parts.append(file.read())
                try:
                    if fmt == "pdf":  # the original, its pages' text layers grafted on
                        data = searchable_pdf(document.path, document.kind,
                                              dict(zip(good, parts, strict=True)), records)
                    else:
                        data = self._assemble(document, key, fmt, parts)
                except OcrError as exc:
                    for index, record in enumerate(records):
                        if index in good:
                            record.update(status="failed", error={
                                "class": type(exc).__name__, "message": str(exc)})
                    good = []
                    outputs = []
                    break
                name = self.output_name(document, fmt)
                write_atomically(os.path.join(self.root, name), data)
                outputs.append(name)
        for record in records:
            record["outputs"] = outputs if record["status"] == "ok" else []
        self._finish(document, key, records, outputs)
        shutil.rmtree(folder, ignore_errors=True)
        return records

    def fail_document(self, document: Document | None, key: str | None, name: str,
                      error: BaseException) -> list[dict[str, Any]]:
        """Record a document that could not be opened at all (page ``null``)."""
        records: list[dict[str, Any]] = [
            {"input": name, "page": None, "status": "failed", "seconds": 0.0,
             "error": {"class": type(error).__name__, "message": str(error)}, "outputs": []}]
        if document is not None and key is not None:
            self._finish(document, key, records, [])
        else:
            self._commit(None, None, records)
        return records

    def _finish(self, document: Document, key: str, records: list[dict[str, Any]],
                outputs: list[str]) -> None:
        done = {"input": document.name, "sha256": document.sha256, "pages": len(records),
                "failed": sum(r["status"] != "ok" for r in records), "outputs": outputs}
        self._commit(key, done, records)

    def _commit(self, key: str | None, done: dict[str, Any] | None,
                records: list[dict[str, Any]]) -> None:
        """Append ``records`` to the manifest and write ``done`` as one step."""
        try:
            offset = os.path.getsize(self.manifest_path)
        except FileNotFoundError:
            offset = 0
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        commit = {"key": key, "done": done, "offset": offset, "lines": lines}
        write_atomically(os.path.join(self._state, _COMMIT), json.dumps(commit).encode())
        self._apply(commit)

    def _assemble(self, document: Document, key: str, fmt: str, parts: list[bytes]) -> bytes:
        if fmt == "txt":
            return b"\f".join(parts)
        if fmt == "json":
            head = json.dumps({"input": document.name, "sha256": document.sha256},
                              ensure_ascii=False)[:-1].encode()
            return head + b', "pages": [' + b", ".join(parts) + b"]}\n"
        header, footer = _document_frame(fmt, document.name)
        return header + b"".join(parts) + footer
