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

The folder defends itself: one run at a time holds ``OUT/.tightbind/lock`` (a lock
that the kernel releases when its process ends, with the holder's pid for the message
refusing a second run); everything read back from ``.tightbind`` is checked (shape,
bounds, names confined to ``OUT``) and what fails the check is redone, not trusted; a
manifest whose last line was torn is cut back to its last whole line before appending.
A document with failed pages keeps its good pages, and the next run retries the failed
ones.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from tightbind.ocr._native import c_string, ffi, lib
from tightbind.ocr.errors import OcrError
from tightbind.ocr.inputs import Document, printable
from tightbind.ocr.pdfgraft import searchable_pdf
from tightbind.ocr.workers import FORMAT_EXTENSIONS, PageOutcome

__all__ = ["MANIFEST", "FolderBusy", "OutputStore", "document_key"]


class FolderBusy(OcrError):
    """Another live run holds the output folder."""

MANIFEST = "manifest.jsonl"
_STATE = ".tightbind"
_COMMIT = "commit.json"
_TEMPORARY = ".tightbind-tmp-"
_LOCK = "lock"
_KEY = re.compile(r"[0-9a-f]{40}")
log = logging.getLogger("tightbind.ocr")
_FOOTERS = {"hocr": b" </body>\n</html>\n", "alto": b"\t</Layout>\n</alto>\n", "tsv": b""}
_RENDERERS = {"hocr": lib.TessHOcrRendererCreate, "alto": lib.TessAltoRendererCreate,
              "tsv": lib.TessTsvRendererCreate}


def document_key(document: Document, fingerprint: str) -> str:
    """What identifies a document's work: its name, its content and the options."""
    text = b"\0".join((os.fsencode(document.name), document.sha256.encode(),
                        fingerprint.encode()))
    return hashlib.sha256(text).hexdigest()[:40]


def _json_line(record: dict[str, Any]) -> str:
    """``record`` as one JSON line: UTF-8 as it is, escaped when a name holds bytes that
    are not UTF-8 (so that the line can be written)."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode()
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line + "\n"


def shorten(name: str, extension: str, name_max: int = 255) -> str:
    """``name + "." + extension`` with its last part cut to ``name_max`` bytes, when
    longer, keeping its start and a stable hash of the whole (``~<12 hex>``)."""
    folder, _, last = name.rpartition("/")
    wanted = f"{last}.{extension}"
    encoded = os.fsencode(wanted)
    if len(encoded) <= name_max:
        return name + "." + extension
    tail = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:12] + "." + extension
    keep = os.fsencode(last)[:name_max - len(tail.encode())]
    while True:  # do not cut a UTF-8 character in half
        try:
            start = keep.decode()
            break
        except UnicodeDecodeError:
            keep = keep[:-1]
    short = start + tail
    return f"{folder}/{short}" if folder else short


def _confined(name: object) -> bool:
    """Whether ``name`` is a relative path that stays inside the folder."""
    if not isinstance(name, str) or not name or "\0" in name or os.path.isabs(name):
        return False
    parts = name.replace(os.sep, "/").split("/")
    return all(part not in ("", ".", "..") for part in parts)


def _valid_done(record: object) -> bool:
    """Whether ``record`` has the shape of a done record this version writes."""
    if not isinstance(record, dict):
        return False
    outputs, failed, pages = record.get("outputs"), record.get("failed"), record.get("pages")
    return (isinstance(outputs, list) and len(outputs) <= 64 and all(map(_confined, outputs))
            and type(failed) is int and type(pages) is int and 0 <= failed <= pages
            and isinstance(record.get("failed_pages", []), list))


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
        self._lock = self._take_lock()
        try:
            self._sweep()
            self._redo()
        except BaseException:
            self.close()
            raise

    def _take_lock(self) -> int:
        """Hold ``.tightbind/lock`` for this run (FolderBusy naming the holder's pid when a
        live process holds it; the kernel releases it when the holder ends)."""
        path = os.path.join(self._state, _LOCK)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise FolderBusy(f"{self.root} is in use by another run (process {holder}); "
                             "wait for it to end (its lock is released when it does)") \
                from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        return descriptor

    def close(self) -> None:
        """Release the folder for the next run."""
        descriptor, self._lock = self._lock, -1
        if descriptor >= 0:
            os.close(descriptor)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def _sweep(self) -> None:
        """Remove the temporary files a killed run left behind."""
        for folder, _, files in os.walk(self.root):
            for name in files:
                if name.startswith(_TEMPORARY):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))

    def _redo(self) -> None:
        """Complete the finish a killed run left half done (see the module's docstring);
        a commit record that fails the checks is dropped (its document is redone)."""
        path = os.path.join(self._state, _COMMIT)
        try:
            with open(path, "rb") as file:
                commit = json.loads(file.read(64 << 20))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            commit = None
        if not self._valid_commit(commit):
            log.warning("tightbind: dropped %s: not a commit record this version wrote", path)
            os.unlink(path)
            return
        self._apply(commit)

    def _valid_commit(self, commit: Any) -> bool:
        if not (isinstance(commit, dict) and set(commit) == {"key", "done", "offset", "lines"}):
            return False
        key, done, offset, lines = (commit[k] for k in ("key", "done", "offset", "lines"))
        if key is None:
            if done is not None:
                return False
        elif not (isinstance(key, str) and _KEY.fullmatch(key) and _valid_done(done)):
            return False
        if not (isinstance(lines, str) and (not lines or lines.endswith("\n"))):
            return False
        try:
            size = os.path.getsize(self.manifest_path)
        except FileNotFoundError:
            size = 0
        return type(offset) is int and 0 <= offset <= size

    def _apply(self, commit: dict[str, Any]) -> None:
        with open(self.manifest_path, "ab", buffering=0) as file:
            file.truncate(commit["offset"])
            file.write(commit["lines"].encode("utf-8", "surrogateescape"))
            os.fsync(file.fileno())
        if commit["key"] is not None:
            write_atomically(self._done_path(commit["key"]), json.dumps(commit["done"]).encode())
        os.unlink(os.path.join(self._state, _COMMIT))

    def _manifest_end(self) -> int:
        """Where the next record goes: the manifest's length, or the end of its last whole
        line when a kill tore the last one (the torn part is then cut)."""
        try:
            file = open(self.manifest_path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return 0
        with file:
            end = file.seek(0, os.SEEK_END)
            position = end
            while position > 0:
                start = max(0, position - 65536)
                file.seek(start)
                chunk = file.read(position - start)
                if position == end and chunk.endswith(b"\n"):
                    return end
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    return start + newline + 1
                position = start
            return 0

    # ---- what is done -------------------------------------------------------------------

    def _done_path(self, key: str) -> str:
        return os.path.join(self._state, "done", f"{key}.json")

    def _pages_folder(self, key: str) -> str:
        return os.path.join(self._state, "pages", key)

    def finished(self, key: str) -> dict[str, Any] | None:
        """The record of a finished document whose outputs are all in place, or None (also
        when the record fails the checks: the document is then redone)."""
        try:
            with open(self._done_path(key), "rb") as file:
                record = json.loads(file.read(16 << 20))
        except (OSError, ValueError):
            return None
        if not _valid_done(record):
            return None
        if all(os.path.isfile(os.path.join(self.root, name)) for name in record["outputs"]):
            return dict(record)
        return None

    def finished_pages(self, key: str, pages: int) -> set[int]:
        """Indexes (below ``pages``) of the pages of a document done well and kept: those
        whose record and parts are all in place.  Failed pages are not among them (a
        re-run retries them); a record that fails the checks is removed."""
        folder = self._pages_folder(key)
        try:
            names = set(os.listdir(folder))
        except FileNotFoundError:
            return set()
        done = set()
        for name in names:
            match = re.fullmatch(r"(\d{1,9})\.done", name)
            if match is None or int(match[1]) >= pages:
                continue
            index = int(match[1])
            record = self._page_record(key, index)
            if record is not None and record["status"] == "ok" and all(
                    f"{index}.{fmt}" in names for fmt in self.formats):
                done.add(index)
        return done

    def _page_record(self, key: str, index: int) -> dict[str, Any] | None:
        try:
            with open(os.path.join(self._pages_folder(key), f"{index}.done"), "rb") as file:
                record = json.loads(file.read(1 << 20))
        except (OSError, ValueError):
            return None
        if isinstance(record, dict) and record.get("status") in ("ok", "failed") and \
                isinstance(record.get("seconds"), (int, float)):
            return record
        return None

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
        if outcome.dpi is not None:
            record["rendered_dpi"] = outcome.dpi
        record.update(outcome.notes or {})
        write_atomically(os.path.join(folder, f"{outcome.index}.done"),
                         json.dumps(record).encode())

    def output_name(self, document: Document, fmt: str) -> str:
        """The output's name in the folder: the input's name and the format's extension,
        shortened (with a stable hash) when longer than a file name may be."""
        return shorten(document.name, FORMAT_EXTENSIONS[fmt])

    def finish(self, document: Document, key: str, pages: int,
               kept: set[int] | frozenset[int] = frozenset()) -> list[dict[str, Any]]:
        """Write the outputs of a document whose ``pages`` are all done, append one
        manifest record per page (but those of ``kept``: good pages an earlier finish
        recorded already) and return the records appended.  The pages of a document with
        failures stay, so that the next run retries only the failed ones."""
        folder = self._pages_folder(key)
        records: list[dict[str, Any]] = []
        good = []
        for index in range(pages):
            page = self._page_record(key, index) or {
                "status": "failed", "seconds": 0.0,
                "error": {"class": "OcrError", "message": "the page's record in .tightbind "
                          "was lost or damaged; the next run redoes the page"}}
            records.append({"input": document.name, "page": index + 1, **page})
            if page["status"] == "ok":
                good.append(index)
        outputs: list[str] = []
        for fmt in self.formats if good else ():
            name = self.output_name(document, fmt)
            try:
                parts = []
                for index in good:
                    with open(os.path.join(folder, f"{index}.{fmt}"), "rb") as file:
                        parts.append(file.read())
                if fmt == "pdf":  # the original, its pages' text layers grafted on
                    data = searchable_pdf(document.path, document.kind,
                                          dict(zip(good, parts, strict=True)), records)
                else:
                    data = self._assemble(document, key, fmt, parts)
                write_atomically(os.path.join(self.root, name), data)
            except (OcrError, OSError) as exc:  # e.g. a folder where the output goes
                for index in good:
                    records[index].update(status="failed", error={
                        "class": type(exc).__name__, "message": str(exc)})
                outputs = []
                break
            outputs.append(name)
        for record in records:
            record["outputs"] = outputs if record["status"] == "ok" else []
        appended = [r for index, r in enumerate(records)
                    if not (index in kept and r["status"] == "ok")]
        self._finish(document, key, records, outputs, appended)
        if all(record["status"] == "ok" for record in records):
            shutil.rmtree(folder, ignore_errors=True)
        return appended

    def fail_document(self, document: Document | None, key: str | None, name: str,
                      error: BaseException) -> list[dict[str, Any]]:
        """Record a document that could not be opened at all (page ``null``)."""
        records: list[dict[str, Any]] = [
            {"input": name, "page": None, "status": "failed", "seconds": 0.0,
             "error": {"class": type(error).__name__, "message": str(error)}, "outputs": []}]
        if document is not None and key is not None:
            self._finish(document, key, records, [], records)
        else:
            self._commit(None, None, records)
        return records

    def _finish(self, document: Document, key: str, records: list[dict[str, Any]],
                outputs: list[str], appended: list[dict[str, Any]]) -> None:
        failed = [r["page"] for r in records if r["status"] != "ok"]
        done = {"input": document.name, "sha256": document.sha256, "pages": len(records),
                "failed": len(failed), "outputs": outputs}
        self._commit(key, done, appended)

    def _commit(self, key: str | None, done: dict[str, Any] | None,
                records: list[dict[str, Any]]) -> None:
        """Append ``records`` to the manifest and write ``done`` as one step."""
        offset = self._manifest_end()
        lines = "".join(_json_line(r) for r in records)
        commit = {"key": key, "done": done, "offset": offset, "lines": lines}
        write_atomically(os.path.join(self._state, _COMMIT), json.dumps(commit).encode())
        self._apply(commit)

    def _assemble(self, document: Document, key: str, fmt: str, parts: list[bytes]) -> bytes:
        if fmt == "txt":
            return b"\f".join(parts)
        if fmt == "json":
            head = _json_line({"input": document.name,
                               "sha256": document.sha256})[:-2].encode()
            return head + b', "pages": [' + b", ".join(parts) + b"]}\n"
        header, footer = _document_frame(fmt, printable(document.name))
        return header + b"".join(parts) + footer
