"""How a delimited text file's encoding and delimiter are found: one way for uploaded
datasets (datagran.datasets.services) and for files read by a source (connector.files).

* Encoding: the first of ``ENCODINGS`` that decodes the text: UTF-8 (with or without a
  byte-order mark), then the Windows code page spreadsheet exports use, then latin-1, which
  decodes any byte. ``decode`` applies it to bytes in memory; ``DecodedReader`` to a stream
  read in pieces: it starts with the first encoding and moves on to the next one at the first
  piece the current one cannot decode (for a file in one encoding, the same answer).
* Delimiter: sniffed from the first line among comma, semicolon, tab and pipe; a line with
  none of them is one column (comma).
* JSON lines keep the types JSON gives them (``JSON_LINES``): pandas' guessing would make
  "007" the number 7, a number in a column named ``*_at`` or ``date`` a time, and a column
  named like a date or a number a time or a number."""
from __future__ import annotations

import codecs
import csv
import io
from typing import IO

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"
PIECE = 1 << 20  # bytes decoded at a time
# pandas.read_json's keywords for JSON lines, uploaded or read by a source.
JSON_LINES = {"lines": True, "dtype": False, "convert_axes": False}


def decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the one csv.Sniffer finds among ``DELIMITERS``."""
    line = first_line.strip("\r\n")
    if not any(d in line for d in DELIMITERS):
        return ","
    try:
        return csv.Sniffer().sniff(line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return max(DELIMITERS, key=line.count)


class DecodedReader(io.TextIOBase):
    """Text from a binary stream, decoded piece by piece (never the whole file at once) in
    ``encoding``, or for "auto" in the first of ENCODINGS that decodes each piece."""

    def __init__(self, raw: IO[bytes], encoding: str = "auto") -> None:
        super().__init__()
        self.raw = raw
        self.encodings = list(ENCODINGS) if encoding == "auto" else [encoding]
        self.encoding_used = self.encodings[0]
        self._decoder = codecs.getincrementaldecoder(self.encoding_used)()
        self._buffer = ""
        self._done = False

    def readable(self) -> bool:
        return True

    def _piece(self) -> str:
        data = self.raw.read(PIECE)
        final = self._done = not data
        while True:
            pending = self._decoder.getstate()
            try:
                return self._decoder.decode(data, final)
            except UnicodeDecodeError:
                if len(self.encodings) < 2:
                    raise
                # This piece is not in the current encoding: the next one decodes it (and
                # the bytes held back from the previous piece) and the rest of the file.
                self.encodings.pop(0)
                self.encoding_used = self.encodings[0]
                self._decoder = codecs.getincrementaldecoder(self.encoding_used)()
                data = pending[0] + data

    def _fill(self, size: int) -> None:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._buffer += self._piece()

    def read(self, size: int | None = -1) -> str:
        size = -1 if size is None else size
        self._fill(size)
        if size < 0:
            text, self._buffer = self._buffer, ""
        else:
            text, self._buffer = self._buffer[:size], self._buffer[size:]
        return text

    def peek_line(self) -> str:
        """The first line, left to be read again."""
        line = self.readline()
        self._buffer = line + self._buffer
        return line

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        while "\n" not in self._buffer and not self._done:
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find("\n")
        end = len(self._buffer) if end < 0 else end + 1
        if size is not None and 0 <= size < end:
            end = size
        text, self._buffer = self._buffer[:end], self._buffer[end:]
        return text
