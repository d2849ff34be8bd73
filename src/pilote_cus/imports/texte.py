"""Reading a delimited text file the way landlords send it: encoding, binary content, first line.

`sniff_text_file` looks at the head of the file (signature, first line, likely encoding);
`scan_text_file` reads it whole, in large chunks, to confirm the encoding (a file that mixes
UTF-8 and Latin-1 is refused), to refuse binary content and to compute its SHA-256 fingerprint.
The scan can run in a thread while DuckDB reads the file: hashlib releases the GIL.
"""

import codecs
import hashlib
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
    line_count: int
    needs_exact_lines: bool  # blank lines or quoted fields: records and lines may not match one to one


class UnreadableFile(Exception):
    def __init__(self, anomaly: Anomaly):
        super().__init__(anomaly.message)
        self.anomaly = anomaly


def _utf8_sequence_at(chunk: bytes, start: int = 0) -> int:
    """Offset of the first UTF-8 sequence for a Latin letter, symbol or punctuation, or -1."""
    best = -1
    for lead, low, high in _UTF8_SIGNATURES:
        pos = chunk.find(lead, start)
        while pos >= 0:
            after = pos + len(lead)
            if after < len(chunk) and low <= chunk[after] <= high:
                best = pos if best < 0 else min(best, pos)
                break
            pos = chunk.find(lead, pos + 1)
    return best


def _nul_check(name: str, chunk: bytes, lines_before: int) -> None:
    nul = chunk.find(b"\x00")
    if nul >= 0:
        line = lines_before + chunk.count(b"\n", 0, nul) + 1
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
    _nul_check(name, head, 0)
    has_bom = head.startswith(UTF8_BOM)
    body = head[len(UTF8_BOM):] if has_bom else head
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    first_line = body.split(b"\n", 1)[0].rstrip(b"\r").decode(encoding, errors="replace")
    return TextHead(path, encoding, has_bom, size, first_line)


def scan_text_file(path: Path, progress: Progress | None = None) -> TextScan:
    name = path.name
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    utf8_line: int | None = None  # a valid UTF-8 non-ASCII character was seen there
    latin_line: int | None = None  # bytes that are not UTF-8 were seen there
    last = b""
    irregular = False
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            _nul_check(name, chunk, lines_before)
            if latin_line is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                    if utf8_line is None and (high := _HIGH_BYTE.search(chunk)):
                        utf8_line = lines_before + chunk.count(b"\n", 0, high.start()) + 1
                except UnicodeDecodeError as error:
                    bad = max(error.start - pending, 0)
                    latin_line = lines_before + chunk.count(b"\n", 0, bad) + 1
                    if utf8_line is None and (high := _HIGH_BYTE.search(chunk, 0, bad)):
                        utf8_line = lines_before + chunk.count(b"\n", 0, high.start()) + 1
                    if utf8_line is None and (at := _utf8_sequence_at(chunk, bad)) >= 0:
                        utf8_line = lines_before + chunk.count(b"\n", 0, at) + 1
            elif utf8_line is None and (at := _utf8_sequence_at(chunk)) >= 0:
                utf8_line = lines_before + chunk.count(b"\n", 0, at) + 1
            irregular = irregular or b'"' in chunk or b"\n\n" in chunk or b"\n\r\n" in chunk
            lines_before += chunk.count(b"\n")
            last = chunk[-1:]
            if progress:
                progress(len(chunk))
    if latin_line is not None and utf8_line is not None:
        raise UnreadableFile(
            Anomaly(
                "ENCODAGE_MIXTE",
                f"{name} mélange deux encodages : UTF-8 (ligne {utf8_line}) et Latin-1 (ligne {latin_line}).",
                max(utf8_line, latin_line),
            )
        )
    encoding = "latin-1" if latin_line is not None else "utf-8"
    return TextScan(encoding, digest.hexdigest(), lines_before + (0 if last == b"\n" else 1), irregular)
