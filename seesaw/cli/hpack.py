"""HPACK (RFC 7541), the header compression of HTTP/2: as much as a gRPC client needs.

* `encode` writes header fields as literals that are never indexed and not
  Huffman-coded: always valid, and request headers are a few dozen bytes.
* `Decoder` reads what a server sends: indexed fields, literals with and
  without indexing, dynamic table size updates, Huffman-coded strings. It
  keeps the connection's dynamic table, so every header block of the
  connection must go through the same decoder, in order.

`HPACKError` is a compression error: the connection cannot be used any more.
"""

from __future__ import annotations

HeaderList = list[tuple[str, str]]

DEFAULT_TABLE_SIZE = 4096
ENTRY_OVERHEAD = 32  # RFC 7541 §4.1: each entry counts its name, its value and 32 octets

# Appendix A: the static table, indices 1..61.
STATIC_TABLE: tuple[tuple[str, str], ...] = (
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
)

# Appendix B: the length in bits of the Huffman code of each symbol 0..255 and of EOS (256). The code is
# canonical, so the lengths alone define it: codes are handed out in order of length, then of symbol.
HUFFMAN_CODE_LENGTHS: tuple[int, ...] = (
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30,
)  # fmt: skip
EOS = 256


class HPACKError(Exception):
    """A header block that cannot be decoded (RFC 7540's COMPRESSION_ERROR)."""


def huffman_codes() -> list[tuple[int, int]]:
    """(code, length in bits) of every symbol, derived from `HUFFMAN_CODE_LENGTHS`."""
    codes = [(0, 0)] * len(HUFFMAN_CODE_LENGTHS)
    code, previous = -1, 0
    for symbol in sorted(range(len(HUFFMAN_CODE_LENGTHS)), key=lambda s: (HUFFMAN_CODE_LENGTHS[s], s)):
        length = HUFFMAN_CODE_LENGTHS[symbol]
        code = (code + 1) << (length - previous)
        previous = length
        codes[symbol] = (code, length)
    return codes


_decode_table: dict[tuple[int, int], int] = {}


def huffman_decode(data: bytes) -> bytes:
    """Decode a Huffman-coded string; HPACKError if it is not a valid one (§5.2)."""
    if not _decode_table:
        _decode_table.update({(length, code): symbol for symbol, (code, length) in enumerate(huffman_codes())})
    table = _decode_table
    out = bytearray()
    code = length = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            symbol = table.get((length, code))
            if symbol is None:
                if length > 30:
                    raise HPACKError("invalid Huffman code")
                continue
            if symbol == EOS:
                raise HPACKError("EOS symbol inside a Huffman-coded string")
            out.append(symbol)
            code = length = 0
    # What is left must be padding: fewer than 8 bits, all ones (the start of EOS).
    if length > 7 or code != (1 << length) - 1:
        raise HPACKError("invalid padding at the end of a Huffman-coded string")
    return bytes(out)


def encode_integer(value: int, prefix_bits: int, first_byte: int = 0) -> bytes:
    """An integer with an N-bit prefix (§5.1); `first_byte` holds the representation's flag bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_string(text: str) -> bytes:
    raw = text.encode()
    return encode_integer(len(raw), 7) + raw


def encode(headers: HeaderList) -> bytes:
    """A header block of literal fields, never indexed (§6.2.3), with literal names and values."""
    return b"".join(b"\x10" + _encode_string(name) + _encode_string(value) for name, value in headers)


class Decoder:
    """Decodes the header blocks of one connection, keeping its dynamic table."""

    def __init__(self, max_table_size: int = DEFAULT_TABLE_SIZE) -> None:
        self.max_table_size = max_table_size  # what SETTINGS_HEADER_TABLE_SIZE allows the peer
        self.table_size = max_table_size  # the limit the peer set with a size update
        self._dynamic: list[tuple[str, str]] = []  # newest first
        self._size = 0

    def decode(self, block: bytes) -> HeaderList:
        headers: HeaderList = []
        pos = 0
        fields_seen = False
        while pos < len(block):
            byte = block[pos]
            if byte & 0x80:  # indexed field
                index, pos = self._integer(block, pos, 7)
                headers.append(self._entry(index))
            elif byte & 0x40:  # literal with incremental indexing
                name, value, pos = self._literal(block, pos, 6)
                headers.append((name, value))
                self._add(name, value)
            elif byte & 0x20:  # dynamic table size update: only before the first field
                if fields_seen:
                    raise HPACKError("dynamic table size update after a header field")
                size, pos = self._integer(block, pos, 5)
                if size > self.max_table_size:
                    raise HPACKError(f"dynamic table size {size} exceeds the {self.max_table_size} allowed")
                self.table_size = size
                self._evict(0)
                continue
            else:  # literal without indexing (0000) or never indexed (0001)
                name, value, pos = self._literal(block, pos, 4)
                headers.append((name, value))
            fields_seen = True
        return headers

    def _integer(self, block: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
        limit = (1 << prefix_bits) - 1
        value = block[pos] & limit
        pos += 1
        if value < limit:
            return value, pos
        shift = 0
        while True:
            if pos >= len(block):
                raise HPACKError("truncated integer")
            byte = block[pos]
            pos += 1
            value += (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, pos
            if shift > 28:
                raise HPACKError("integer too large")

    def _string(self, block: bytes, pos: int) -> tuple[str, int]:
        if pos >= len(block):
            raise HPACKError("truncated string")
        huffman = bool(block[pos] & 0x80)
        length, pos = self._integer(block, pos, 7)
        end = pos + length
        if end > len(block):
            raise HPACKError("truncated string")
        raw = block[pos:end]
        if huffman:
            raw = huffman_decode(raw)
        try:
            return raw.decode("utf-8"), end
        except UnicodeDecodeError:
            return raw.decode("latin-1"), end

    def _literal(self, block: bytes, pos: int, prefix_bits: int) -> tuple[str, str, int]:
        index, pos = self._integer(block, pos, prefix_bits)
        if index:
            name = self._entry(index)[0]
        else:
            name, pos = self._string(block, pos)
        value, pos = self._string(block, pos)
        return name, value, pos

    def _entry(self, index: int) -> tuple[str, str]:
        if 1 <= index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        dynamic = index - len(STATIC_TABLE) - 1
        if 0 <= dynamic < len(self._dynamic):
            return self._dynamic[dynamic]
        raise HPACKError(f"header table index {index} out of range")

    def _add(self, name: str, value: str) -> None:
        size = len(name.encode()) + len(value.encode()) + ENTRY_OVERHEAD
        if size > self.table_size:  # §4.4: an entry larger than the table empties it
            self._dynamic.clear()
            self._size = 0
            return
        self._evict(size)
        self._dynamic.insert(0, (name, value))
        self._size += size

    def _evict(self, room: int) -> None:
        while self._dynamic and self._size + room > self.table_size:
            name, value = self._dynamic.pop()
            self._size -= len(name.encode()) + len(value.encode()) + ENTRY_OVERHEAD
