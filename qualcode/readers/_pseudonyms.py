"""Pseudonymisation: replace names in speaker labels and text before parsing.

Replacement happens on the decoded text *before* turns are found, so every offset
is computed on the pseudonymised text and stays valid by construction.  Names are
matched as whole words, case-sensitively, longest first (``Budi Santoso`` before
``Budi``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .._inputs import safe_yaml_load
from .._io import atomic_write_text
from ..errors import IngestError
from ._decode import decode_bytes, read_bytes
from ._labels import is_known_label

if TYPE_CHECKING:
    from ..corpus._model import Corpus

__all__ = ["Pseudonymiser", "load_pseudonyms", "make_pseudonyms"]

_TITLES = frozenset("pak bu ibu bapak mas mbak dr mr mrs ms prof drs ir haji hj".split())


def load_pseudonyms(source: str | os.PathLike[str] | Mapping[str, str]) -> dict[str, str]:
    """Load a name -> pseudonym mapping.

    Args:
        source: a dict, or a path to a CSV with columns ``name,pseudonym`` or to a YAML
            mapping (``.yaml``/``.yml``).

    Returns:
        The mapping (names and pseudonyms stripped, empty names dropped).

    Raises:
        IngestError: unreadable file, missing columns, a non-mapping YAML document, or a
            name given two different pseudonyms.

    Examples:
        >>> load_pseudonyms({"Budi": "P01"})
        {'Budi': 'P01'}
    """
    if isinstance(source, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in source.items() if str(k).strip()}
    path = Path(source)
    text = decode_bytes(read_bytes(path), path=path, fmt="pseudonyms").text
    out: dict[str, str] = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = safe_yaml_load(text, fail=lambda m, ln: IngestError(m, path=path, line=ln))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            msg = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
            raise IngestError(msg, path=path, line=mark.line + 1 if mark else None) from None
        if not isinstance(data, dict):
            msg = "a pseudonym file must be a mapping of names to pseudonyms"
            raise IngestError(msg, path=path)
        return load_pseudonyms({str(k): str(v) for k, v in data.items()})
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "name" not in fields or "pseudonym" not in fields:
        msg = f"a pseudonym CSV needs the columns 'name,pseudonym'. Got {reader.fieldnames}."
        raise IngestError(msg, path=path, line=1)
    for row in reader:
        norm = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        name, pseudo = norm.get("name", ""), norm.get("pseudonym", "")
        if not name:
            continue
        if not pseudo:
            msg = f"name {name!r} has no pseudonym"
            raise IngestError(msg, path=path, line=reader.line_num)
        if name in out and out[name] != pseudo:
            msg = f"name {name!r} has two pseudonyms ({out[name]!r} and {pseudo!r})"
            raise IngestError(msg, path=path, line=reader.line_num)
        out[name] = pseudo
    return out


class Pseudonymiser:
    """Replace whole-word, case-sensitive names by pseudonyms, longest names first.

    Args:
        mapping: name -> pseudonym.

    Examples:
        >>> Pseudonymiser({"Budi": "P01", "Budi Santoso": "P02"})("Budi Santoso met Budi.")
        'P02 met P01.'
    """

    def __init__(self, mapping: Mapping[str, str]):
        self.mapping = dict(mapping)
        names = sorted(self.mapping, key=len, reverse=True)
        self._re = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
            if names
            else None
        )

    def __call__(self, text: str) -> str:
        if self._re is None:
            return text
        return self._re.sub(lambda m: self.mapping[m.group(0)], text)


def make_pseudonyms(
    corpus: Corpus, path: str | Path | None = None, *, prefix: str = "P", overwrite: bool = False
) -> dict[str, str]:
    """Generate stable pseudonyms (``P01``, ``P02``...) for the named speakers of a corpus.

    Role labels (``I``, ``R``, ``Interviewer``, ``P1``, ``Peserta 2``...) and the
    ``unknown``/``notes``/``respondent`` placeholders are not names and are left out.
    Speakers are numbered in corpus order of first appearance, so re-running on the same
    corpus gives the same mapping.  Keep the file: it is the key to re-identification.

    Args:
        corpus: the corpus whose speakers to pseudonymise.
        path: if given, write the mapping there as a ``name,pseudonym`` CSV (atomically).
        prefix: pseudonym prefix.
        overwrite: allow replacing an existing mapping file.

    Returns:
        The mapping name -> pseudonym.

    Raises:
        ExportError: ``path`` exists and ``overwrite`` is False.
    """
    names: list[str] = []
    for d in corpus:
        for s in d.speakers:
            if s in ("unknown", "notes", "respondent") or is_known_label(s):
                continue
            names.append(s)
    names = list(dict.fromkeys(names))
    width = max(2, len(str(len(names))))
    mapping = {n: f"{prefix}{i:0{width}d}" for i, n in enumerate(names, start=1)}
    for n, p in list(mapping.items()):  # "Pak Hendra" -> also "Hendra" alone
        words = n.split()
        if len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
            mapping.setdefault(" ".join(words[1:]), p)
    if path is not None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["name", "pseudonym"])
        w.writerows(mapping.items())
        atomic_write_text(path, buf.getvalue(), overwrite=overwrite)
    return mapping
