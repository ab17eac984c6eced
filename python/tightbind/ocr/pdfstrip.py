"""Removing an earlier OCR layer from a PDF page ("redo"): the text drawn invisibly (text
render mode 3 or 7), wherever it is drawn, and nothing else.

A layer may lie in the page's own content or in a Form XObject the page draws (as some
OCR tools, and tightbind's graft, write it), possibly nested in other forms.  The text
render mode is part of the graphics state, so a form inherits the mode in force where it
is drawn: a form is judged for that mode.  A form that draws nothing but invisible text is
no longer drawn; a form that mixes it with anything else is replaced by a copy without
it.  Objects are never changed in place, since other pages (or other places of this one)
may draw the same form or share the same resources: the page gets its own copies of the
resource dictionaries on the way to each changed form (copy on write).  A form that draws
itself (which renderers refuse to follow) is not drawn from its copy; forms nested deeper
than 32 are refused.  Everything is worked out before the page is touched, so a page
whose content cannot be read is left as it was (:func:`strip_invisible_text` raises
:class:`OcrError`).
"""

from __future__ import annotations

from typing import Any

from tightbind.ocr.errors import OcrError

__all__ = ["strip_invisible_text"]

_INVISIBLE_MODES = (3, 7)
_TEXT_SHOW = frozenset(("Tj", "TJ", "'", '"'))
_MAX_DEPTH = 32  # nested forms followed; a page nesting deeper is not stripped
_DROP = "drop"  # a form that draws only invisible text, or draws itself


class _Stripper:
    def __init__(self, pikepdf: Any, pdf: Any) -> None:
        self.pikepdf = pikepdf
        self.pdf = pdf
        # (form's object, inherited render mode) -> None (unchanged), _DROP or a copy
        self.memo: dict[tuple[tuple[int, int], int], Any] = {}
        self.removed = False

    def content(self, instructions: list[Any], resources: Any, mode: int,
                depth: int) -> tuple[list[Any], dict[str, Any], bool]:
        """``instructions`` without invisible text, the forms (name -> copy or _DROP)
        replaced under ``resources``, and whether anything else than invisible text is
        drawn."""
        kept: list[Any] = []
        replaced: dict[str, Any] = {}
        stack: list[int] = []
        drawn = False
        for instruction in instructions:
            operands, op = instruction.operands, str(instruction.operator)
            if op == "q":
                stack.append(mode)
            elif op == "Q" and stack:
                mode = stack.pop()
            elif op == "Tr" and operands:
                mode = int(operands[0])
            elif op in _TEXT_SHOW:
                if mode in _INVISIBLE_MODES:
                    self.removed = True
                    kept.extend(self._line_moves(op, operands))
                    continue
                drawn = True
            elif op == "Do" and operands:
                name = str(operands[0])
                form = _form(resources, name)
                if form is None:
                    drawn = True  # an image, or a name that does not resolve
                else:
                    result = self.form(form, mode, depth + 1)
                    if result is _DROP:
                        continue
                    drawn = True
                    if result is not None:
                        replaced[name] = result
            elif op in _PAINTING:
                drawn = True
            kept.append(instruction)
        return kept, replaced, drawn

    def _line_moves(self, op: str, operands: Any) -> list[Any]:
        """What a removed show did besides showing: ``'`` and ``"`` move to the next
        line (and ``"`` sets the word and character spacing), so the text after them
        stays where it was."""
        instruction = self.pikepdf.ContentStreamInstruction
        operator = self.pikepdf.Operator
        if op == "'":
            return [instruction([], operator("T*"))]
        if op == '"' and len(operands) == 3:
            return [instruction([operands[0]], operator("Tw")),
                    instruction([operands[1]], operator("Tc")),
                    instruction([], operator("T*"))]
        return []

    def form(self, form: Any, mode: int, depth: int) -> Any:
        """None when the form drawn with render ``mode`` has no invisible text, _DROP
        when it has nothing else, else a stripped copy."""
        key = (form.objgen, mode) if form.is_indirect else None
        if key is not None and key in self.memo:
            return self.memo[key]
        if depth > _MAX_DEPTH:
            raise OcrError(f"form XObjects nested deeper than {_MAX_DEPTH}")
        if key is not None:  # a form drawing itself (renderers refuse to) is not drawn
            self.memo[key] = _DROP
        instructions = _parse(self.pikepdf, form, f"form XObject {form.objgen[0]}")
        kept, replaced, drawn = self.content(instructions, form.get("/Resources"), mode,
                                             depth)
        result: Any = None
        if len(kept) < len(instructions) or replaced:
            result = self._copy(form, kept, replaced) if drawn else _DROP
        if key is not None:
            self.memo[key] = result
        return result

    def _copy(self, form: Any, kept: list[Any], replaced: dict[str, Any]) -> Any:
        pikepdf = self.pikepdf
        copy = pikepdf.Stream(self.pdf, pikepdf.unparse_content_stream(kept))
        for key, value in form.items():
            if key not in ("/Length", "/Filter", "/DecodeParms", "/Resources"):
                copy[key] = value
        resources = form.get("/Resources")
        if resources is not None:
            copy.Resources = _with_forms(pikepdf, resources, replaced)
        return self.pdf.make_indirect(copy)


#: Operators that paint (besides text shows and Do): paths, shadings, inline images.
_PAINTING = frozenset(("S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "BI",
                       "INLINE IMAGE"))


def _parse(pikepdf: Any, holder: Any, what: str) -> list[Any]:
    try:
        return list(pikepdf.parse_content_stream(holder))
    except Exception as exc:  # qpdf's errors, and pikepdf's own on odd tokens
        raise OcrError(f"cannot read the content of the {what}: {exc}") from None


def _form(resources: Any, name: str) -> Any:
    try:
        xobject = resources["/XObject"][name]
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    try:
        return xobject if xobject.get("/Subtype") == "/Form" else None
    except AttributeError:
        return None


def _with_forms(pikepdf: Any, resources: Any, replaced: dict[str, Any]) -> Any:
    """A copy of the ``resources`` dictionary whose XObject dictionary (a copy too)
    names the ``replaced`` forms; a dropped form's name stays (no longer drawn)."""
    copy = pikepdf.Dictionary({key: value for key, value in resources.items()})
    if replaced:
        xobjects = pikepdf.Dictionary({key: value
                                       for key, value in resources["/XObject"].items()})
        for name, form in replaced.items():
            if form is not _DROP:
                xobjects[name] = form
        copy.XObject = xobjects
    return copy


def strip_invisible_text(pdf: Any, page: Any) -> bool:
    """Remove the invisible text (an earlier OCR layer) from ``page`` of the pikepdf
    ``pdf``, in its content and in the forms it draws (nested ones too), as the module
    says; visible text and everything else stay, and other pages drawing the same forms
    keep them as they were.  Returns whether anything was removed.  Raises
    :class:`OcrError` (the page untouched) when a content stream cannot be read."""
    import pikepdf

    from tightbind.ocr.pdfgraft import _inherited

    stripper = _Stripper(pikepdf, pdf)
    resources = _inherited(page.obj, "/Resources")
    kept, replaced, _ = stripper.content(_parse(pikepdf, page, "page"), resources, 0, 0)
    if not stripper.removed:
        return False
    contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
    if replaced:
        page.obj.Resources = _with_forms(pikepdf, resources, replaced)
    page.obj.Contents = contents
    return True
