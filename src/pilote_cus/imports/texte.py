"""Reading a delimited text file the way landlords send it: encoding, binary content, first line.

The whole file is read once, in large chunks, to detect its encoding reliably (a file that mixes
UTF-8 and Latin-1 is refused), to refuse binary content, and to compute its SHA-256 fingerprint.
"""

import codecs
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .erreurs import Anomaly

CHUNK_BYTES = 32 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
# Lead bytes of UTF-8 sequences for accented Latin letters (à…ÿ, À…ß) and for symbols (°, «, nbsp).
# In a Latin-1 file they would read « Ã » or « Â » followed by a C1 control or a symbol: not French text.
_UTF8_LEADS = (b"\xc3", b"\xc2")
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "archive ZIP ou classeur XLSX",
    b"%PDF": "document PDF",
    b"\xd0\xcf\x11\xe0": "classeur Excel 97-2003 (XLS)",
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class TextFile:
    path: Path
    encoding: str  # "utf-8" or "latin-1", as DuckDB's read_csv names them
    has_bom: bool
    size: int
    sha256: str
    line_count: int
    first_line: str


class UnreadableFile(Exception):
    def __init__(self, anomaly: Anomaly):
        super().__init__(anomaly.message)
        self.anomaly = anomaly


def _has_utf8_sequence(chunk: bytes, start: int = 0) -> int:
    """Offset of the first two-byte UTF-8 sequence for a Latin letter or symbol, or -1."""
    best = -1
    for lead in _UTF8_LEADS:
        pos = chunk.find(lead, start)
        while pos >= 0:
            if pos + 1 < len(chunk) and 0x80 <= chunk[pos + 1] <= 0xBF:
                best = pos if best < 0 else min(best, pos)
                break
            pos = chunk.find(lead, pos + 1)
    return best


def inspect_text_file(path: Path, progress: Progress | None = None) -> TextFile:
    name = path.name
    if not path.is_file():
        raise UnreadableFile(Anomaly("FICHIER_INTROUVABLE", f"Fichier introuvable : {path}"))
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(Anomaly("FICHIER_VIDE", f"Le fichier {name} est vide (0 octet)."))

    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    first_non_ascii_line: int | None = None  # a valid UTF-8 non-ASCII character was seen there
    first_invalid_line: int | None = None  # bytes that are not UTF-8 were seen there
    first_line_bytes = b""
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            if offset == 0:
                for signature, label in _BINARY_SIGNATURES.items():
                    if chunk.startswith(signature):
                        raise UnreadableFile(
                            Anomaly("FICHIER_BINAIRE", f"{name} n'est pas un fichier CSV : c'est un {label}.", 1)
                        )
                first_line_bytes = chunk.split(b"\n", 1)[0]
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line = lines_before + chunk.count(b"\n", 0, nul) + 1
                raise UnreadableFile(
                    Anomaly("FICHIER_BINAIRE", f"{name} contient des octets nuls (ligne {line}) : contenu binaire.", line)
                )
            if first_invalid_line is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                    if first_non_ascii_line is None and not chunk.isascii():
                        pos = next(i for i, b in enumerate(chunk) if b >= 0x80)
                        first_non_ascii_line = lines_before + chunk.count(b"\n", 0, pos) + 1
                except UnicodeDecodeError as error:
                    bad = max(error.start - pending, 0)
                    first_invalid_line = lines_before + chunk.count(b"\n", 0, bad) + 1
                    if first_non_ascii_line is None and not chunk[:bad].isascii():
                        first_non_ascii_line = lines_before + 1
                    utf8_at = _has_utf8_sequence(chunk, bad)
                    if first_non_ascii_line is None and utf8_at >= 0:
                        first_non_ascii_line = lines_before + chunk.count(b"\n", 0, utf8_at) + 1
            elif first_non_ascii_line is None:
                utf8_at = _has_utf8_sequence(chunk)
                if utf8_at >= 0:
                    first_non_ascii_line = lines_before + chunk.count(b"\n", 0, utf8_at) + 1
            lines_before += chunk.count(b"\n")
            offset += len(chunk)
            if progress:
                progress(len(chunk))
        ends_with_newline = _ends_with_newline(handle, size)

    if first_invalid_line is not None and first_non_ascii_line is not None:
        utf8_line, latin_line = first_non_ascii_line, first_invalid_line
        raise UnreadableFile(
            Anomaly(
                "ENCODAGE_MIXTE",
                f"{name} mélange deux encodages : UTF-8 (ligne {utf8_line}) et Latin-1 (ligne {latin_line}).",
                max(utf8_line, latin_line),
            )
        )
    has_bom = first_line_bytes.startswith(UTF8_BOM)
    encoding = "latin-1" if first_invalid_line is not None else "utf-8"
    raw_first = first_line_bytes[len(UTF8_BOM) :] if has_bom else first_line_bytes
    first_line = raw_first.rstrip(b"\r").decode(encoding)
    line_count = lines_before + (0 if ends_with_newline else 1)
    return TextFile(path, encoding, has_bom, size, digest.hexdigest(), line_count, first_line)


def _ends_with_newline(handle, size: int) -> bool:
    handle.seek(size - 1)
    return handle.read(1) == b"\n"
