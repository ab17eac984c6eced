"""The Python examples of the README and of every docs page run as written.

Every ```python block of README.md, CONTRIBUTING.md, CHANGELOG.md and docs/**/*.md runs
in a fresh namespace, in a temporary working directory that holds the files the examples
open (made here), unless the line before it is an HTML comment starting with
"<!-- not run" that says why.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)```", re.S)


def pages() -> list:
    """The Markdown files whose examples run: the README and the docs site's pages."""
    found = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")]
    found += sorted(path for path in (ROOT / "docs").rglob("*.md")
                    if "_build" not in path.parts and "api" not in path.parts)
    return [path for path in found if path.exists()]


def examples() -> list[tuple[str, str]]:
    found = []
    for path in pages():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        for match in BLOCK.finditer(text):
            if match.group("before").strip().startswith("<!-- not run"):
                continue
            line = text.count("\n", 0, match.start("code")) + 1
            found.append((f"{name}:{line}", match.group("code")))
    return found


def generated_protobuf_modules(request: pytest.FixtureRequest) -> dict[str, bytes]:
    """The README's .proto blocks, compiled by its own protoc command (grpc_tools)."""
    import subprocess
    import sys

    text = "".join(path.read_text(encoding="utf-8") for path in pages())
    protos = re.findall(r"```proto\n(.*?)```", text, re.S)
    if not protos:
        return {}
    folder = request.getfixturevalue("tmp_path_factory").mktemp("readme-protos")
    (folder / "test_msg.proto").write_text(protos[0], encoding="utf-8")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I.", "--python_out=.",
                    "test_msg.proto"], cwd=folder, check=True)
    return {"test_msg_pb2.py": (folder / "test_msg_pb2.py").read_bytes()}


@pytest.fixture(scope="module")
def example_files(request: pytest.FixtureRequest) -> dict[str, bytes]:
    """The files the README's examples open, by name."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    files: dict[str, bytes] = {}
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
    page = Image.new("L", (1200, 400), 255)
    draw = ImageDraw.Draw(page)
    for row, line in enumerate(["A page for the README", "rendered by its own test"]):
        draw.text((60, 60 + 120 * row), line, font=font, fill=0)
    tiff = io.BytesIO()
    page.save(tiff, format="TIFF", dpi=(300, 300))
    files["page.tif"] = tiff.getvalue()
    receipt = Image.new("L", (700, 300), 255)
    draw = ImageDraw.Draw(receipt)
    for row, line in enumerate(["CORNER SHOP", "Milk 1.20", "Total 3.70"]):
        draw.text((60, 60 + 60 * row), line, font=font, fill=0)
    png = io.BytesIO()
    receipt.save(png, format="PNG", dpi=(300, 300))
    files["receipt.png"] = png.getvalue()
    files.update(generated_protobuf_modules(request))
    try:
        import helpers.pki  # noqa: F401  (the pki fixture needs cryptography)
    except ImportError:
        return files
    pki = request.getfixturevalue("pki")
    pki.openssl("pkcs12", "-export", "-legacy", "-passout", "pass:secret", "-in", "leaf.pem",
                "-inkey", "leaf.key", "-certfile", "cas.pem", "-name", "client",
                "-caname", "intermediate", "-caname", "root", "-out", "client.p12")
    files["client.p12"] = (pki.files["root.pem"].parent / "client.p12").read_bytes()
    return files


@pytest.mark.parametrize("where, code", examples(), ids=[w for w, _ in examples()])
def test_readme_example_runs(where, code, tmp_path, monkeypatch, example_files):
    for name, data in example_files.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    exec(compile(code, where, "exec"), {"__name__": "__readme__"})


def test_readme_has_examples():
    names = {where.split(":")[0] for where, _ in examples()}
    assert "README.md" in names
    # Every guide shows its API in at least one runnable example.
    assert {"docs/guides/framing.md", "docs/guides/ocr.md", "docs/guides/tls.md"} <= names
