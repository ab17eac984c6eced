"""Build script: the pure-Python packages under python/ plus one cffi module per area.

Which native modules are built is decided by build_ffi.cffi_modules(): an area whose
system libraries are missing is skipped with a message (or fails the build when
TIGHTBIND_REQUIRE names it).
"""

import glob
import os
import shutil
import sys
import tarfile

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_ffi



class build_py_with_tessdata(build_py):
    """Also copy Tesseract language data into the package when asked to.

    TIGHTBIND_BUNDLE_TESSDATA names a tessdata folder (scripts/build-wheels passes the
    system's); TIGHTBIND_BUNDLE_LANGS lists the models (default "eng osd").  The models
    and their Debian copyright files land in tightbind/tessdata/, which tightbind.ocr uses
    when neither data_path nor TESSDATA_PREFIX points elsewhere.

    TIGHTBIND_BUNDLE_TESSERACT_SOURCE names the Tesseract source tarball the wheel's
    Tesseract is built from: its tessdata/configs and tessdata/tessconfigs (the config
    files that ``tesseract IMAGE OUT digits``, ``hocr``, ``pdf``, ``tsv``... name) land
    beside the models, so config names work with the bundled models as with Tesseract's
    own folder.

    TIGHTBIND_BUNDLE_LICENSES names a folder of licence texts, one subfolder per bundled
    library (scripts/build-vendor makes it); it is copied to tightbind/licenses/.
    """

    def run(self):
        super().run()
        self.bundle_licenses()
        source = os.environ.get("TIGHTBIND_BUNDLE_TESSDATA")
        if not source:
            return
        target = os.path.join(self.build_lib, "tightbind", "tessdata")
        os.makedirs(target, exist_ok=True)
        for lang in os.environ.get("TIGHTBIND_BUNDLE_LANGS", "eng osd").split():
            model = os.path.join(source, f"{lang}.traineddata")
            if not os.path.exists(model):
                raise SystemExit(f"TIGHTBIND_BUNDLE_TESSDATA: {model} does not exist "
                                 f"(apt-get install tesseract-ocr-{lang})")
            shutil.copy2(model, target)
            for notice in glob.glob(f"/usr/share/doc/tesseract-ocr-{lang}/copyright"):
                shutil.copy2(notice, os.path.join(target, f"COPYING.{lang}"))
        self.bundle_configs(target)

    def bundle_configs(self, target):
        tarball = os.environ.get("TIGHTBIND_BUNDLE_TESSERACT_SOURCE")
        if not tarball:
            return
        copied = 0
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                parts = member.name.split("/")
                # tesseract-X.Y.Z/tessdata/{configs,tessconfigs}/NAME, the build files aside
                if (len(parts) == 4 and parts[1] == "tessdata" and member.isfile()
                        and parts[2] in ("configs", "tessconfigs")
                        and not parts[3].startswith("Makefile")):
                    folder = os.path.join(target, parts[2])
                    os.makedirs(folder, exist_ok=True)
                    with open(os.path.join(folder, parts[3]), "wb") as out:
                        out.write(archive.extractfile(member).read())
                    copied += 1
        if not copied:
            raise SystemExit(f"TIGHTBIND_BUNDLE_TESSERACT_SOURCE: no tessdata/configs in {tarball}")

    def bundle_licenses(self):
        licenses = os.environ.get("TIGHTBIND_BUNDLE_LICENSES")
        if licenses:
            target = os.path.join(self.build_lib, "tightbind", "licenses")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(licenses, target)


setup(
    cmdclass={"build_py": build_py_with_tessdata},
    package_dir={"": "python"},
    packages=find_packages("python"),
    package_data={"tightbind": ["py.typed"], "tightocr": ["py.typed"], "protobufp": ["py.typed"]},
    cffi_modules=build_ffi.cffi_modules(),
    zip_safe=False,
    # cffi builds every module against the limited API (.abi3.so); one wheel, tagged
    # cp310-abi3, then serves CPython 3.10 and every later version.
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
