"""Exceptions and warnings raised by qualcode.

Every exception inherits from :class:`QualcodeError` *and* from the builtin a
user would naturally catch (``ValueError``, ``FileNotFoundError``...), so that
``except ValueError`` keeps working.  Messages name the file, line or field
that is at fault.
"""

from __future__ import annotations

__all__ = [
    "CodebookError",
    "CodingsError",
    "EmbeddingError",
    "ExportError",
    "IngestError",
    "InvalidParameterError",
    "NotFittedError",
    "QualcodeError",
    "QualcodeWarning",
    "RefiError",
    "IngestWarning",
    "UnsafeInputError",
]


class QualcodeError(Exception):
    """Base class of every error qualcode raises on purpose."""


class IngestError(QualcodeError, ValueError):
    """A transcript, notes file or sidecar could not be read.

    Attributes:
        path: the file at fault, when there is one.
        line: the 1-based line at fault, when there is one.
    """

    def __init__(self, message: str, *, path: object | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path + (f", line {line}" if line is not None else "")
            where += ": "
        super().__init__(where + message)


class InvalidParameterError(QualcodeError, ValueError, TypeError):
    """A public function or class got a parameter value outside its declared constraints.

    Raised by :mod:`qualcode._params`; inherits ``ValueError`` and ``TypeError`` because a bad
    parameter may be a wrong value or a wrong type (scikit-learn does the same).
    """


class CodebookError(QualcodeError, ValueError):
    """A codebook is invalid.  ``problems`` lists every problem found, not only the first."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)


class CodingsError(QualcodeError, ValueError):
    """A codings table (human or machine) is malformed or does not match the corpus."""

    #: every problem of a codings file, one string each (set by :func:`qualcode.read_codings`)
    problems: list[str]


class NotFittedError(QualcodeError, ValueError, AttributeError):
    """Learned state was asked for before ``fit`` was called."""


class EmbeddingError(QualcodeError, RuntimeError):
    """An embedding backend could not be loaded or gave unusable output."""


class RefiError(QualcodeError, ValueError):
    """A REFI-QDA file (.qdc or .qdpx) is invalid or unsafe."""


class UnsafeInputError(RefiError):
    """An archive or XML file tried something dangerous (path escape, entity expansion...)."""


class ExportError(QualcodeError, OSError):
    """An output could not be written."""


class QualcodeWarning(UserWarning):
    """Base class of qualcode's warnings."""


class IngestWarning(QualcodeWarning):
    """A file was skipped or read with a fallback (for instance a legacy encoding)."""
