"""Bytes of an article file to text: UTF-8 when it is, else the encoding charset-normalizer detects.

Archives are full of Latin-1 and Windows-1252 files; losing such an article costs more than a warning
that names the encoding used (so a wrong guess can be noticed and the file re-saved as UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass


class UndecodableError(ValueError):
    """The bytes are not text in any encoding that could be detected."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    # None for UTF-8 (the expected case); otherwise the detected encoding's name, for the warning.
    detected_encoding: str | None = None


def decode_bytes(data: bytes) -> DecodedText:
    """Decode ``data``: UTF-8 (with or without BOM) first, then by detection."""
    try:
        return DecodedText(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise UndecodableError("not text in any encoding that could be detected; re-save it as UTF-8")
    best = matches[0]
    encoding = best.encoding
    # Short texts often fit several single-byte code pages equally well (cp1250 and cp1252 tie on
    # "Hélène"); the tie goes to windows-1252, by far the most common legacy encoding of English and
    # Western European text. Latin-1 is read as windows-1252 too, as browsers do (WHATWG Encoding
    # standard): the bytes 0x80-0x9f are curly quotes and dashes there, control characters in Latin-1.
    tied = [m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    try:
        as_1252 = data.decode(_WINDOWS_1252)
    except UnicodeDecodeError:
        as_1252 = None
    if as_1252 is not None and (_WINDOWS_1252 in tied or encoding in _LATIN_1 or as_1252 == str(best)):
        return DecodedText(as_1252, "windows-1252")
    return DecodedText(str(best), _common_name(encoding))


_WINDOWS_1252 = "cp1252"
_LATIN_1 = {"latin_1", "iso8859_1", "ascii"}


def _common_name(encoding: str) -> str:
    # charset-normalizer speaks Python codec names ("cp1252"); people know them as "windows-1252".
    if encoding.startswith("cp125"):
        return "windows-" + encoding[2:]
    return encoding.replace("_", "-")
