"""Which codings a matrix counts: the filters every matrix function shares, declared once.

Every public function of :mod:`qualcode.matrices` takes the same keyword filters (``coder``,
``source``, ``min_score``, ``role``, ``codebook``, ``aggregate``, ``codes``) or all of them at
once as ``selection=``.  They are typed, documented and checked here only:

* :class:`Selection` holds them: one field, one entry of ``_parameter_constraints`` and one
  line of its ``Attributes:`` docstring section per filter;
* :func:`shares_selection` gives a function written with ``**filters`` the filters as
  keyword-only parameters in its signature (``help()``, ``inspect.signature``) and their
  descriptions in its docstring, both taken from :class:`Selection`;
* :meth:`Selection.from_keywords` turns a call's ``**filters`` into a checked Selection.

Adding a filter is one edit here (field + constraint + docstring line) plus its use in
:func:`~qualcode.matrices._common.prepare_selection`; every matrix function then accepts,
documents and checks it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import pandas as pd

from .._params import (
    HasMethods,
    InstanceOf,
    Interval,
    ListOf,
    Options,
    check_param,
    validate_params,
)
from ..errors import InvalidParameterError

__all__ = ["Selection", "shares_selection"]

F = TypeVar("F", bound=Callable[..., Any])

#: a Codebook, or anything with its hierarchy contract (``ancestors()``, ``ids``)
CODEBOOK = HasMethods(
    ["ancestors"], "a Codebook", attributes=["ids"], hints={str: "Load it first: qc.Codebook.load(path)."}
)


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which codings a matrix counts, and how codes are grouped.

    Every matrix function takes these as keyword arguments
    (``case_by_code(codings, corpus, coder="ana", min_score=0.5)``) or all at once as
    ``selection=`` (``sel = Selection(coder="ana"); case_by_code(codings, corpus,
    selection=sel)``); keywords given next to ``selection=`` override its fields.

    Attributes:
        coder: ``None`` or ``"all"`` (every coder's codings, counted separately), a coder id or
            a list of ids (only those, counted separately), or ``"consensus"`` (only the
            characters every coder coded with the code, as maximal spans).
        source: keep only codings from this source or these sources (``human``, ``rule``,
            ``embedding``...).
        min_score: keep codings whose score is at least this (codings without a score are
            kept).
        role: keep codings whose speaker role (of the turn where the coding starts) is this
            role or among these roles.
        codebook: a Codebook: gives the code order, ``aggregate="children"`` and themes.
        aggregate: ``"children"`` (the default with a codebook): a parent code counts its
            own codings and its descendants', a segment coded with two children counting
            once (per coder); or ``"none"`` (the default without one): each code counts its
            own codings only.
        codes: only these codes (after aggregation), in this order.
    """

    coder: str | Sequence[str] | None = None
    source: str | Sequence[str] | None = None
    min_score: float | None = None
    role: str | Sequence[str] | None = None
    codebook: Any = None
    aggregate: str | None = None
    codes: Sequence[str] | None = None

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "coder": [str, ListOf(str, non_empty=False), None],
        "source": [str, ListOf(str, non_empty=False), None],
        "min_score": [Interval(numbers.Real, None, None), None],
        "role": [str, ListOf(str, non_empty=False), None],
        "codebook": [CODEBOOK, None],
        "aggregate": [Options(str, {"none", "children"}), None],
        "codes": [ListOf(str, non_empty=False), None],
    }

    def __post_init__(self) -> None:
        if self.aggregate is None:
            object.__setattr__(self, "aggregate", "none" if self.codebook is None else "children")
        self.check("Selection")

    def check(self, caller: str) -> None:
        """Check every filter; messages name ``caller``.

        Raises:
            InvalidParameterError: a filter of the wrong type or value, or
                ``aggregate="children"`` without a codebook.
        """
        validate_params(self._parameter_constraints, self.as_dict(), caller)
        if self.aggregate == "children" and self.codebook is None:
            msg = f"{caller}(aggregate='children') needs the codebook (codebook=...)."
            raise InvalidParameterError(msg)

    def as_dict(self) -> dict[str, Any]:
        """The filters as ``{name: value}`` (the values as given, not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_keywords(cls, caller: str, filters: Mapping[str, Any]) -> Selection:
        """The selection of one call: ``selection=`` and/or the filter keywords.

        Args:
            caller: the function called (named in messages).
            filters: the call's ``**filters``.

        Returns:
            The checked Selection (keywords override the fields of ``selection=``).

        Raises:
            TypeError: a keyword that is not a filter (as Python says for any function).
            InvalidParameterError: a filter of the wrong type or value.
        """
        names = set(FILTERS)
        for key in filters:
            if key != "selection" and key not in names:
                msg = f"{caller}() got an unexpected keyword argument {key!r}"
                raise TypeError(msg)
        base = filters.get("selection")
        check_param("selection", base, [InstanceOf(Selection), None], caller)
        given = {k: v for k, v in filters.items() if k != "selection"}
        values = {**(base.as_dict() if base is not None else {}), **given}
        validate_params(cls._parameter_constraints, values, caller)
        sel = cls.__new__(cls)  # checked above with the caller's name: skip __post_init__
        for f in dataclasses.fields(cls):
            object.__setattr__(sel, f.name, values.get(f.name, f.default))
        if sel.aggregate is None:
            object.__setattr__(sel, "aggregate", "none" if sel.codebook is None else "children")
        sel.check(caller)
        return sel

    def scope(self, corpus: Any) -> Any:
        """``corpus`` restricted to the codebook's scope (the corpus itself without a scope)."""
        if corpus is None or self.codebook is None or not getattr(self.codebook, "scope", None):
            return corpus
        ids = self.codebook.in_scope(corpus)
        return corpus if len(ids) == len(corpus.documents) else corpus.subset(ids)


#: the filter names, in signature order
FILTERS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Selection))


def _field_docs() -> dict[str, list[str]]:
    """Each filter's lines in the ``Attributes:`` section of :class:`Selection` (dedented)."""
    lines = inspect.cleandoc(Selection.__doc__ or "").splitlines()
    start = lines.index("Attributes:") + 1
    docs: dict[str, list[str]] = {}
    name = None
    for line in lines[start:]:
        if not line.strip():
            break
        m = re.match(r"    (\w+): (.*)", line)
        if m:
            name = m.group(1)
            docs[name] = [m.group(2)]
        elif name is not None:
            docs[name].append(line.strip())
    return docs


_SELECTION_DOC = "a :class:`Selection` holding all the filters below at once (keywords override it)."


def _expand_doc(doc: str, func_name: str) -> str:
    """Replace the ``**filters:`` entry of a Google docstring by one entry per filter."""
    lines = doc.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith("**filters:")), None)
    if at is None:
        msg = f"{func_name}: its docstring must document **filters (shares_selection fills in the filters)"
        raise TypeError(msg)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    end = at + 1
    while end < len(lines) and lines[end].strip() and len(lines[end]) - len(lines[end].lstrip()) > len(indent):
        end += 1
    entries = [f"{indent}selection: {_SELECTION_DOC}"]
    for name, text in _field_docs().items():
        entries.append(f"{indent}{name}: {text[0]}")
        entries.extend(f"{indent}    {t}" for t in text[1:])
    return "\n".join(lines[:at] + entries + lines[end:])


def shares_selection(func: F) -> F:
    """Give ``func`` (written with ``**filters``) the filters of :class:`Selection`.

    Its signature then shows ``selection=None`` and every filter as a keyword-only
    parameter with its default, and its docstring's ``**filters:`` entry becomes one entry
    per filter.  The function builds its selection with
    ``Selection.from_keywords(name, filters)``.
    """
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    if not params or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        msg = f"{func.__qualname__} must end with **filters to share the selection"
        raise TypeError(msg)
    extra = [inspect.Parameter("selection", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Selection | None")]
    for f in dataclasses.fields(Selection):
        extra.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type))
    new_sig = sig.replace(parameters=params[:-1] + extra)
    has_corpus = "corpus" in sig.parameters

    @functools.wraps(func)
    def scoped(*args: Any, **kwargs: Any) -> Any:
        # a codebook with a scope counts only the documents (and cases) it applies to
        book = kwargs.get("codebook")
        base = kwargs.get("selection")
        if book is None and isinstance(base, Selection):
            book = base.codebook
        if has_corpus and book is not None and getattr(book, "scope", None):
            bound = sig.bind_partial(*args, **kwargs)
            corpus = bound.arguments.get("corpus")
            if corpus is not None and hasattr(corpus, "documents"):
                ids = book.in_scope(corpus)
                if len(ids) != len(corpus.documents):
                    bound.arguments["corpus"] = corpus.subset(ids)
                    # codings of documents outside the scope are left out by the scope, not
                    # "documents not in the corpus" (no warning)
                    for name in ("codings", "reference", "other"):
                        c = bound.arguments.get(name)
                        if c is not None and hasattr(c, "filter") and hasattr(c, "to_frame"):
                            bound.arguments[name] = c.filter(doc_id=ids)
                        elif isinstance(c, pd.DataFrame) and "doc_id" in c.columns:
                            bound.arguments[name] = c[c["doc_id"].astype(str).isin(set(ids))]
                    return func(*bound.args, **bound.kwargs)
        return func(*args, **kwargs)

    scoped.__signature__ = new_sig  # type: ignore[attr-defined]  # read by inspect.signature
    scoped.__doc__ = _expand_doc(func.__doc__ or "", func.__qualname__)
    SHARING.append(scoped)
    return scoped  # type: ignore[return-value]  # functools.wraps: same call signature as func


#: every function decorated with :func:`shares_selection`, in the order they were defined
SHARING: list[Callable[..., Any]] = []

