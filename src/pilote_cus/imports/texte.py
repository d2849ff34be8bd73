"""Reading a delimited text file the way landlords send it: encoding, binary content, first line.

`sniff_text_file` looks at the head of the file (signature, first line, likely encoding);
`scan_text_file` reads it whole, in large chunks, to confirm the encoding (a file that mixes
UTF-8 and Latin-1 is refused), to refuse binary content and to compute its SHA-256 fingerprint.
The scan can run in a thread while DuckDB reads the file: hashlib releases the GIL.
"""

import codecs
import hashlib
import mmap
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .erreurs import Anomaly

CHUNK_BYTES = 32 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
# Lead bytes of UTF-8 sequences for accented Latin letters (à…ÿ, À…ß), symbols (°, «, nbsp) and
# typographic punctuation (’ “ ” … –). In Latin-1 they would read « Ã », « Â » or « â » followed by a
# C1 control or a symbol: never French text.
_UTF8_SIGNATURES = ((b"\xc3", 0x80, 0xBF), (b"\xc2", 0x80, 0xBF), (b"\xe2\x80", 0x80, 0xBF))
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "archive ZIP ou classeur XLSX",
    b"%PDF": "document PDF",
    b"\xd0\xcf\x11\xe0": "classeur Excel 97-2003 (XLS)",
}

Progress = Callable[[int], None]
Buffer = bytes | mmap.mmap
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class TextHead:
    path: Path
    encoding: str  # likely encoding, "utf-8" or "latin-1" as DuckDB's read_csv names them
    has_bom: bool
    size: int
    first_line: str


@dataclass(frozen=True)
class TextScan:
    encoding: str
    sha256: str


class UnreadableFile(Exception):
    def __init__(self, anomaly: Anomaly):
        super().__init__(anomaly.message)
        self.anomaly = anomaly


def _utf8_sequence_at(data: Buffer, start: int, end: int) -> int:
    """Offset of the first UTF-8 sequence for a Latin letter, symbol or punctuation in data[start:end], or -1.

    Searches single bytes only (memchr speed): the lead bytes C3/C2, rare in Latin-1 French text,
    and the continuation byte 80 of typographic punctuation (E2 80 xx), absent from Latin-1 text.
    """
    best = -1
    for lead in (b"\xc3", b"\xc2"):
        pos = data.find(lead, start, end)
        while pos >= 0:
            if pos + 1 < end and 0x80 <= data[pos + 1] <= 0xBF:
                best = pos if best < 0 else min(best, pos)
                break
            pos = data.find(lead, pos + 1, end)
    pos = data.find(b"\x80", start, end)
    while pos >= 0:
        if pos > start and data[pos - 1] == 0xE2 and pos + 1 < end and 0x80 <= data[pos + 1] <= 0xBF:
            best = pos - 1 if best < 0 else min(best, pos - 1)
            break
        pos = data.find(b"\x80", pos + 1, end)
    return best


def _line_at(path: Path, offset: int) -> int:
    """Line number (1-based) of the byte at `offset`; only called when something is wrong."""
    lines = 1
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(CHUNK_BYTES, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _nul_check(name: str, chunk: bytes) -> None:
    nul = chunk.find(b"\x00")
    if nul >= 0:
        line = chunk.count(b"\n", 0, nul) + 1
        raise UnreadableFile(
            Anomaly("FICHIER_BINAIRE", f"{name} contient des octets nuls (ligne {line}) : contenu binaire.", line)
        )


def sniff_text_file(path: Path) -> TextHead:
    name = path.name
    if not path.is_file():
        raise UnreadableFile(Anomaly("FICHIER_INTROUVABLE", f"Fichier introuvable : {path}"))
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(Anomaly("FICHIER_VIDE", f"Le fichier {name} est vide (0 octet)."))
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    for signature, label in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise UnreadableFile(Anomaly("FICHIER_BINAIRE", f"{name} n'est pas un fichier CSV : c'est un {label}.", 1))
    _nul_check(name, head)
    has_bom = head.startswith(UTF8_BOM)
    body = head[len(UTF8_BOM) :] if has_bom else head
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    first_line = body.split(b"\n", 1)[0].rstrip(b"\r").decode(encoding, errors="replace")
    return TextHead(path, encoding, has_bom, size, first_line)


def scan_text_file(path: Path, progress: Progress | None = None) -> TextScan:
    """Read the whole file (memory-mapped: no copy) for its fingerprint and a reliable encoding."""
    name = path.name
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_at: int | None = None  # offset of a valid UTF-8 non-ASCII character
    latin_at: int | None = None  # offset of bytes that are not UTF-8
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            for start in range(0, len(data), CHUNK_BYTES):
                end = min(start + CHUNK_BYTES, len(data))
                digest.update(view[start:end])
                nul = data.find(b"\x00", start, end)
                if nul >= 0:
                    line = _line_at(path, nul)
                    raise UnreadableFile(
                        Anomaly(
                            "FICHIER_BINAIRE",
                            f"{name} contient des octets nuls (ligne {line}) : contenu binaire.",
                            line,
                        )
                    )
                if latin_at is None:
                    pending = len(decoder.getstate()[0])
                    try:
                        decoder.decode(view[start:end])
                        if utf8_at is None and (high := _HIGH_BYTE.search(data, start, end)):
                            utf8_at = high.start()
                    except UnicodeDecodeError as error:
                        latin_at = start + max(error.start - pending, 0)
                        if utf8_at is None and (high := _HIGH_BYTE.search(data, start, latin_at)):
                            utf8_at = high.start()
                        if utf8_at is None and (found := _utf8_sequence_at(data, latin_at, end)) >= 0:
                            utf8_at = found
                elif utf8_at is None and (found := _utf8_sequence_at(data, start, end)) >= 0:
                    utf8_at = found
                if progress:
                    progress(end - start)
        finally:
            view.release()
    if latin_at is not None and utf8_at is not None:
        utf8_line, latin_line = _line_at(path, utf8_at), _line_at(path, latin_at)
        raise UnreadableFile(
            Anomaly(
                "ENCODAGE_MIXTE",
                f"{name} mélange deux encodages : UTF-8 (ligne {utf8_line}) et Latin-1 (ligne {latin_line}).",
                max(utf8_line, latin_line),
            )
        )
    return TextScan("latin-1" if latin_at is not None else "utf-8", digest.hexdigest())


def is_encoding_error(error: Exception) -> bool:
    """Whether a DuckDB CSV error is about the file's encoding."""
    text = str(error)
    return "encoded" in text or "unicode" in text.lower() or "UTF" in text


def is_windows_1252(path: Path) -> bool:
    with path.open("rb") as handle:
        while chunk := handle.read(32 * 1024 * 1024):
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True


def to_utf8_copy(path: Path, folder: Path, encoding: str) -> Path:
    """A UTF-8 copy, line for line, so that reported line numbers stay those of the original."""
    copy = folder / f"{path.stem}.utf8.csv"
    with path.open("rb") as source, copy.open("wb") as target:
        while chunk := source.read(32 * 1024 * 1024):
            target.write(chunk.decode(encoding).encode("utf-8"))
    return copy
