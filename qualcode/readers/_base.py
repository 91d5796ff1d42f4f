"""What every reader returns (``Parsed``) and how it becomes a :class:`Document`.

Readers only find text and turns; kind, language, roles and cases are decided here,
in one place, from (highest priority first) the sidecar, the front matter, the
``read_corpus`` arguments and the built-in inference.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..corpus._model import KINDS, ROLES, Document, SourceInfo, Turn
from ..errors import IngestError
from ._labels import RawTurn, assign_roles, infer_kind

if TYPE_CHECKING:
    from ._sidecar import Sidecar

__all__ = ["Parsed", "check_language", "finalise", "guess_language"]

_EN_WORDS = frozenset(
    "the and of to is we that it in was for they this are with not have but you be on "
    "our there what which would can do so if as at from by".split()
)
_ID_WORDS = frozenset(
    "yang dan di itu tidak kami ini dengan untuk ada ke dari saya kita juga akan bisa sudah "
    "karena atau jadi tapi kalau dalam belum lebih harus seperti masih pada mereka apa".split()
)
_WORD_RE = re.compile(r"[a-z]+")
#: keys of front matter / sidecar rows that are document fields, not attributes
RESERVED = ("doc_id", "case_id", "language", "kind", "speaker", "speaker_role")


@dataclass
class Parsed:
    """A document as a reader found it, before roles, kind and language are settled.

    Attributes:
        doc_id: the document id (file stem, front matter or ``stem:row``).
        text: the document text.
        turns: turns with offsets into ``text``.
        source: where the text came from.
        meta: ``case_id``, ``language``, ``kind`` from front matter or the table.
        attributes: other document metadata (front matter keys, table columns).
        case_attributes: attributes for the document's case (table columns).
        notes: the text looked like bullet notes.
        labelled: speaker labels were found.
        kind_default: the reader's default kind (``survey`` for table rows).
        line: line of the file the document starts on (table rows).
        language_hint: a language guessed by the reader (a whole table), used when the
            document alone has no function word of either language.
    """

    doc_id: str
    text: str
    turns: list[RawTurn]
    source: SourceInfo
    meta: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    case_attributes: dict[str, Any] = field(default_factory=dict)
    notes: bool = False
    labelled: bool = True
    kind_default: str | None = None
    line: int | None = None
    language_hint: str | None = None


_LANG_CODE = re.compile(r"[a-z]{2,3}")


def check_language(language: str) -> str:
    """A language code as given to ``read_corpus(language=)`` / ``--language``, checked.

    Args:
        language: an ISO 639 code that spaCy knows (``en``, ``id``, ``nl``...) or ``xx``
            (multilingual); case and surrounding spaces do not matter.

    Returns:
        The code, lower case.

    Raises:
        IngestError: anything else (``english``, ``EN-us``, ``42``...), with the reason.
    """
    code = str(language).strip().lower()
    known = False
    if _LANG_CODE.fullmatch(code):
        import spacy

        try:
            spacy.util.get_lang_class(code)
            known = True
        except (ImportError, KeyError, ValueError):
            known = False
    if not known:
        names = {"english": "en", "indonesian": "id", "bahasa": "id", "indonesia": "id"}
        hint = f" (did you mean {names[code]!r}?)" if code in names else ""
        msg = (
            f"unknown language {language!r}{hint}: give an ISO 639-1 code that spaCy knows, "
            "such as 'en' or 'id' ('xx' for multilingual text)"
        )
        raise IngestError(msg)
    return code


def guess_language(text: str, default: str = "en") -> str:
    """Guess ``en`` or ``id`` from function-word counts (majority wins for code-switching).

    Args:
        text: some text (only the first 20,000 characters are read).
        default: returned when no function word of either language is found.

    Returns:
        ``"id"`` when Indonesian function words outnumber English ones, ``"en"`` when
        English ones do, else ``default``.
    """
    words = Counter(_WORD_RE.findall(text[:20000].lower()))
    en = sum(n for w, n in words.items() if w in _EN_WORDS)
    idn = sum(n for w, n in words.items() if w in _ID_WORDS)
    if en == idn == 0:
        return default
    return "id" if idn > en else "en"


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def finalise(
    p: Parsed,
    *,
    language: str | None = None,
    kind: str | None = None,
    sidecar: Sidecar | None = None,
) -> tuple[Document, dict[str, dict[str, Any]]]:
    """Settle kind, language, roles and cases of a parsed document.

    Args:
        p: what the reader found.
        language: language for documents whose metadata does not name one.
        kind: kind for documents whose metadata does not name one.
        sidecar: the case sidecar, if any.

    Returns:
        The Document and the case attributes it contributes (``{case_id: {attr: value}}``).

    Raises:
        IngestError: a kind, language or role in the metadata is invalid.
    """
    path = p.source.path
    doc_row = sidecar.doc_row(p.doc_id) if sidecar is not None else None
    row = doc_row.values if doc_row is not None else {}
    speakers = list(dict.fromkeys(t.speaker for t in p.turns))
    the_kind = (
        _clean(row.get("kind"))
        or _clean(p.meta.get("kind"))
        or kind
        or p.kind_default
        or infer_kind(speakers, p.notes, p.labelled)
    )
    the_kind = str(the_kind).strip().lower()
    if the_kind not in KINDS:
        where = doc_row.line if doc_row is not None else None
        src = doc_row.path if doc_row is not None else path
        msg = f"kind must be one of {KINDS}. Got {the_kind!r} instead (document {p.doc_id!r})."
        raise IngestError(msg, path=src, line=where)
    lang = _clean(row.get("language")) or _clean(p.meta.get("language")) or language
    if not lang:
        sample = " ".join(p.text[t.start : t.end] for t in p.turns[:200])
        lang = guess_language(sample or p.text, default=p.language_hint or "en")
    lang = str(lang).strip().lower()
    case_id = str(_clean(row.get("case_id")) or _clean(p.meta.get("case_id")) or p.doc_id)
    roles = assign_roles(speakers, the_kind)
    turns: list[Turn] = []
    for t in p.turns:
        role = t.role or roles.get(t.speaker, "unknown")
        turn_case = None
        if sidecar is not None:
            srow = sidecar.speaker_row(p.doc_id, t.speaker)
            if srow is not None:
                override = _clean(srow.values.get("speaker_role"))
                if override:
                    override = str(override).lower()
                    if override not in ROLES:
                        msg = f"speaker_role must be one of {ROLES}. Got {override!r} instead."
                        raise IngestError(msg, path=srow.path, line=srow.line)
                    role = override
                turn_case = srow.case_id
        turns.append(Turn(t.speaker, role, t.start, t.end, t.time_start, t.time_end, turn_case))
    attributes = dict(p.attributes)
    doc = Document(
        p.doc_id,
        p.text,
        case_id=case_id,
        kind=the_kind,
        language=lang,
        attributes=attributes,
        turns=tuple(turns),
        source=p.source,
    )
    cases: dict[str, dict[str, Any]] = {}
    base = {
        k: v
        for k, v in {**p.attributes, **p.case_attributes}.items()
        if k not in RESERVED and k != "pseudonymised" and _clean(v) is not None
        and not isinstance(v, (list, dict))
    }
    cases[case_id] = base
    return doc, cases
