"""HPACK for the CLI's own gRPC calls: RFC 7541's examples, its tables, and the errors it names."""

from __future__ import annotations

import pytest

from seesaw.cli import hpack


def test_integers_with_a_prefix_rfc7541_c1() -> None:
    assert hpack.encode_integer(10, 5) == bytes([0b01010])
    assert hpack.encode_integer(1337, 5) == bytes([0b11111, 0b10011010, 0b00001010])
    assert hpack.encode_integer(42, 8) == bytes([42])
    assert hpack.encode_integer(31, 5) == bytes([31, 0])  # exactly the prefix's limit takes a second octet


def test_requests_with_huffman_and_the_dynamic_table_rfc7541_c4() -> None:
    decoder = hpack.Decoder()
    first = decoder.decode(bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))
    assert first == [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
    second = decoder.decode(bytes.fromhex("828684be5886a8eb10649cbf"))
    assert second == [*first, ("cache-control", "no-cache")]


def test_responses_with_eviction_rfc7541_c6() -> None:
    decoder = hpack.Decoder(max_table_size=256)
    decoder.table_size = 256  # as the RFC's example: a 256-octet table
    location = ("location", "https://www.example.com")
    assert decoder.decode(
        bytes.fromhex(
            "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"
        )
    ) == [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), location]
    assert decoder.decode(bytes.fromhex("4883640effc1c0bf")) == [
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        location,
    ]
    third = (
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af"
        "27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"
    )
    assert decoder.decode(bytes.fromhex(third)) == [
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        location,
        ("content-encoding", "gzip"),
        ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
    ]


def test_tables_match_an_independent_implementation() -> None:
    """Every Huffman code and static entry, against scapy's HTTP/2 module (a separate transcription of the RFC)."""
    http2 = pytest.importorskip("scapy.contrib.http2")
    assert hpack.huffman_codes() == [tuple(code) for code in http2.HPackZString.static_huffman_code]
    static = http2.HPackHdrTable._static_entries
    assert [(static[i].name(), static[i].value()) for i in range(1, 62)] == list(hpack.STATIC_TABLE)


def test_every_symbol_decodes() -> None:
    text = bytes(range(256))
    codes = hpack.huffman_codes()
    bits = "".join(format(codes[b][0], f"0{codes[b][1]}b") for b in text)
    bits += "1" * (-len(bits) % 8)  # padding: the most significant bits of EOS
    assert hpack.huffman_decode(int(bits, 2).to_bytes(len(bits) // 8, "big")) == text


def test_what_we_send_reads_back() -> None:
    headers = [(":path", "/seesaw.engine.Engine/ListVservers"), ("grpc-timeout", "10000m"), ("x-long", "v" * 300)]
    assert hpack.Decoder().decode(hpack.encode(headers)) == headers


@pytest.mark.parametrize(
    ("block", "error"),
    [
        (bytes([0x80 | 70]), "index 70 out of range"),  # nothing in the dynamic table
        (bytes([0x00, 0x05]) + b"ab", "truncated string"),
        (bytes([0x3F, 0xE2, 0x1F]), "4097 exceeds the 4096 allowed"),  # a size update: 31 + 98 + 31 * 128
        (bytes([0x82, 0x20]), "size update after a header field"),
        (bytes([0x00, 0x81, 0x00, 0x00]), "invalid padding"),  # a Huffman name of one zero octet: '0' then 000
        (bytes([0x00, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]), "EOS symbol"),
        (bytes([0xFF, 0x80]), "truncated integer"),
        (bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), "integer too large"),
    ],
)
def test_bad_blocks_are_compression_errors(block: bytes, error: str) -> None:
    with pytest.raises(hpack.HPACKError, match=error):
        hpack.Decoder().decode(block)
