"""REFI-QDA exchange: projects (.qdpx) and codebooks (.qdc) for NVivo, ATLAS.ti, MAXQDA and QualCoder.

- :func:`write_qdpx` exports a corpus, codebook and codings as a validated, deterministic
  ``.qdpx`` archive; ``offsets="utf16"`` or ``target=`` one of :data:`TARGETS` writes the
  positions a given tool counts.
- :func:`read_qdpx` imports one into a :class:`Project` (corpus, codebook, codings, users,
  notes), detecting each source's offset convention and refusing unsafe archives.
- :func:`write_qdc` exports a :class:`~qualcode.Codebook` as a validated, deterministic ``.qdc``;
  :func:`read_qdc` imports one (lenient about what real tools write, safe).
"""

from ._qdc import read_qdc, write_qdc
from ._read import Note, Project, read_qdpx
from ._targets import TARGETS, ExportConvention
from ._write import validate_project, write_qdpx

__all__ = [
    "TARGETS",
    "ExportConvention",
    "Note",
    "Project",
    "read_qdc",
    "read_qdpx",
    "validate_project",
    "write_qdc",
    "write_qdpx",
]
