"""``bash scripts/bench batch``: tightbind's batch tables (``tightbind.bench.batch``:
``run_batch`` on threads, on Dask, with a page deadline; speed settings; RSS) with the
usual ways of doing the same with other packages as contenders of the throughput
tables: a ``multiprocessing.Pool`` calling ``pytesseract.image_to_string`` (a
``tesseract`` process per page; the reference row) and tesserocr with one
``PyTessBaseAPI`` per thread."""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tightbind.bench import batch
from tightbind.bench._report import Table
from tightbind.bench.batch import text_path


def _pytesseract_page(job: tuple[str, str]) -> None:
    import pytesseract

    path, out_path = job
    text = pytesseract.image_to_string(path, lang=batch.LANGUAGE, config=f"--psm {batch.PSM}")
    with open(out_path, "w", encoding="utf-8") as file:
        file.write(text)


class _Pytesseract(batch.Contender):
    name = "multiprocessing.Pool + pytesseract"
    label = "Pool+pytesseract"

    def available(self) -> bool:
        return importlib.util.find_spec("pytesseract") is not None

    def start(self, warm: list[Path]) -> None:
        import multiprocessing

        self.pool = multiprocessing.get_context("spawn").Pool(batch.WORKERS)
        super().start(warm)

    def run(self, paths: list[Path], out: Path, done: batch.Done) -> None:
        out.mkdir(parents=True, exist_ok=True)
        for _ in self.pool.imap_unordered(
                _pytesseract_page, [(str(p), text_path(out, str(p))) for p in paths]):
            done()

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


class _Tesserocr(batch.Contender):
    name = "tesserocr, one PyTessBaseAPI per thread"
    label = "tesserocr"

    def available(self) -> bool:
        return importlib.util.find_spec("tesserocr") is not None

    def start(self, warm: list[Path]) -> None:
        self.local = threading.local()
        self.apis: list[Any] = []
        self.pool = ThreadPoolExecutor(batch.WORKERS)
        barrier = threading.Barrier(batch.WORKERS)
        list(self.pool.map(lambda _: (self._api(), barrier.wait()), range(batch.WORKERS)))
        super().start(warm)

    def _api(self) -> Any:
        import tesserocr

        assert tesserocr.PSM.AUTO == batch.PSM
        api = getattr(self.local, "api", None)
        if api is None:
            api = tesserocr.PyTessBaseAPI(lang=batch.LANGUAGE, psm=batch.PSM)
            self.local.api = api
            self.apis.append(api)
        return api

    def _page(self, path: Path, out: Path, done: batch.Done) -> None:
        api = self._api()
        api.SetImageFile(str(path))
        with open(text_path(out, str(path)), "w", encoding="utf-8") as file:
            file.write(api.GetUTF8Text())
        done()

    def run(self, paths: list[Path], out: Path, done: batch.Done) -> None:
        out.mkdir(parents=True, exist_ok=True)
        list(self.pool.map(lambda path: self._page(path, out, done), paths))

    def close(self) -> None:
        self.pool.shutdown()
        for api in self.apis:
            api.End()


def run(quick: bool) -> list[Table]:
    return batch.run(quick, peers=(_Pytesseract, _Tesserocr))
