"""Two build steps of the API reference.

``builder-inited``: write ``reference/api/<module>.md`` for every public module of the
packages (each page an ``automodule`` of what the module itself defines, and for a
package the list of names its ``__all__`` exports), so a module added to the tree is in
the reference without anyone remembering to list it.

``missing-reference``: docstrings name things the way a reader of the code does:
``ImageError``, ``recognize``, ``tightbind.tls.MAX_ITERATIONS`` (a re-export).  A Python
reference that finds no target is resolved to the one documented object whose full name
ends with it (preferring the referring class's own member); when there is none, or more
than one, the reference stays unresolved and the build fails on its warning.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.domains import python

HERE = Path(__file__).resolve().parent
API = HERE / "reference" / "api"
TOP = ["tightbind", "protobufp", "tightocr"]
# Entry points, not API: the CLI (tightbind bench included) is documented in the guides.
SKIP = ("tightbind.bench", "tightbind.commands", "tightbind.__main__")


def public_modules() -> list[str]:
    names = []
    for top in TOP:
        package = importlib.import_module(top)
        names.append(top)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
            parts = info.name.split(".")
            if any(part.startswith("_") for part in parts) or info.name.startswith(SKIP):
                continue
            names.append(info.name)
    return sorted(names)


def page(name: str) -> str:
    module = importlib.import_module(name)
    lines = [f"# `{name}`", "", "```{eval-rst}", f".. automodule:: {name}",
             "   :members:", "   :undoc-members:", "   :ignore-module-all:",
             "   :show-inheritance:", "```", ""]
    exported = getattr(module, "__all__", None)
    if exported and hasattr(module, "__path__"):
        links, here = [], []
        for item in exported:
            obj = getattr(module, item, None)
            home = getattr(obj, "__module__", None) or ""
            defined = (isinstance(obj, type) or callable(obj)) and \
                getattr(obj, "__qualname__", None) == item
            if defined and home == name:
                continue  # the automodule above documents it
            if defined and not any(p.startswith("_") for p in home.split(".")):
                links.append(f"- {{py:obj}}`{item} <{home}.{item}>`")
            else:
                # Values, and names whose home is private: documented on this page.
                if isinstance(obj, type) or callable(obj):
                    kind = "autoclass" if isinstance(obj, type) else "autofunction"
                    here.append(f".. {kind}:: {name}.{item}")
                    continue
                # A value: its type and, when short, the value itself (autodata would
                # show the docstring of the value's type, dict's or int's).
                here.append(f".. py:data:: {name}.{item}")
                here.append(f"   :type: {type(obj).__name__}")
                if isinstance(obj, (int, float, str, bool)) and len(repr(obj)) < 60:
                    here.append(f"   :value: {obj!r}")
        if here:
            lines += ["## Defined here", "", "```{eval-rst}", *here, "```", ""]
        if links:
            lines += ["## Exported names", "", *links, ""]
    return "\n".join(lines)


def write_pages(app: Any = None) -> None:
    API.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.md": page(name) for name in public_modules()}
    for old in API.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    for filename, text in wanted.items():
        path = API / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def nearest(candidates: list[str], module: str | None) -> list[str]:
    """Of several objects of one name (tightbind.tls.DecodeError and the crypto face's),
    those nearest the referring module, then the shortest names among them."""
    if len(candidates) < 2 or not module:
        return candidates

    def shared(name: str) -> int:
        count = 0
        for a, b in zip(name.split("."), module.split("."), strict=False):
            if a != b:
                break
            count += 1
        return count

    best = max(shared(name) for name in candidates)
    candidates = [name for name in candidates if shared(name) == best]
    shortest = min(name.count(".") for name in candidates)
    return [name for name in candidates if name.count(".") == shortest]


class PythonDomain(python.PythonDomain):
    """Sphinx's Python domain, choosing the nearest of several same-named targets (a
    type hint ``Processor`` in ``tightbind.framing.io`` means tightbind's, not the
    ``protobufp`` face's) instead of warning and taking the first."""

    def find_obj(self, env: Any, modname: Any, classname: Any, name: Any, type: Any,
                 searchmode: int = 0) -> Any:
        matches = super().find_obj(env, modname, classname, name, type, searchmode)
        if len(matches) > 1:
            keep = set(nearest([found for found, _ in matches], modname))
            matches = [match for match in matches if match[0] in keep]
        return matches


def resolve(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.get_domain("py")
    objects = domain.objects
    tail = target.split(".")[-1]
    candidates = [name for name in objects
                  if name == target or name.endswith("." + target)
                  or (name.endswith("." + tail) and target.startswith("tightbind."))]
    if not candidates and "." in target:
        # A name through a module alias in an annotation (``tls_signing.Pkcs7``).
        candidates = [name for name in objects if name.endswith("." + tail)]
    owner = node.get("py:class")
    module = node.get("py:module")
    if owner and module:
        own = f"{module}.{owner}.{target}"
        if own in objects:
            candidates = [own]
    candidates = nearest([name for name in candidates if not objects[name].aliased], module)
    if len(candidates) != 1:
        return None
    found = candidates[0]
    entry = objects[found]
    ref = nodes.reference("", "", internal=True)
    ref["refuri"] = app.builder.get_relative_uri(node["refdoc"], entry.docname) + "#" + \
        entry.node_id
    ref["reftitle"] = found
    ref.append(contnode)
    return ref


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_pages)
    app.connect("missing-reference", resolve)
    app.add_domain(PythonDomain, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
