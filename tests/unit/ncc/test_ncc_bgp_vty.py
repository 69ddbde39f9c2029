"""The VTY framing (Seesaw's quagga/vty_test.go, over a real socket pair) and the session's refusals."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seesaw.ncc.bgp import vty
from seesaw.ncc.bgp.client import VTYSession, VTYUnavailable


def test_a_command_is_its_text_and_one_nul() -> None:
    assert vty.encode("this is a test") == b"this is a test\x00"


@pytest.mark.parametrize("bad", ["show\x00bgp", "configure terminal\nrouter bgp 1"])
def test_a_command_is_one_line_without_nul(bad: str) -> None:
    with pytest.raises(ValueError, match="one line"):
        vty.encode(bad)


def test_read_stops_at_three_nuls_and_the_status() -> None:
    decoder = vty.Decoder()
    assert decoder.feed(b"this is a test" + b"\x00\x00\x00\x00") == [vty.Reply("this is a test", 0)]
    assert decoder.pending == 0


def test_an_error_status_comes_with_the_daemons_text() -> None:
    (reply,) = vty.Decoder().feed(b"% [BGP] Unknown command: enable\n\x00\x00\x00\x02")
    assert not reply.ok
    assert reply.status == 2
    assert reply.describe() == "% [BGP] Unknown command: enable"
    assert vty.Reply("", 13).describe() == "configuration failed"


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))), st.integers(0, 255)
        ),
        max_size=5,
    ),
    st.integers(1, 7),
)
def test_replies_survive_any_chunking(replies: list[tuple[str, int]], chunk: int) -> None:
    wire = b"".join(text.encode() + vty.TERMINATOR + bytes([status]) for text, status in replies)
    decoder = vty.Decoder()
    got: list[vty.Reply] = []
    for start in range(0, len(wire), chunk):
        got.extend(decoder.feed(wire[start : start + chunk]))
    assert [(r.output, r.status) for r in got] == replies
    assert decoder.pending == 0


def test_session_over_a_socket_pair_sends_enable_then_the_command(tmp_path: Path) -> None:
    path = tmp_path / "bgpd.vty"

    async def scenario() -> tuple[list[bytes], vty.Reply]:
        received: list[bytes] = []

        async def daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for answer in (b"\x00\x00\x00\x00", b"No BGP network exists\n\x00\x00\x00\x00"):
                received.append(await reader.readuntil(b"\x00"))
                writer.write(answer)
                await writer.drain()
            writer.close()

        server = await asyncio.start_unix_server(daemon, path=str(path))
        async with server, VTYSession(path, timeout=5) as session:
            reply = await session.command("show bgp")
        return received, reply

    received, reply = asyncio.run(scenario())
    assert received == [b"enable\x00", b"show bgp\x00"]
    assert reply == vty.Reply("No BGP network exists\n", 0)


def test_no_socket_means_bgpd_is_absent_and_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(VTYUnavailable) as caught:
        asyncio.run(VTYSession(tmp_path / "bgpd.vty", timeout=2).open())
    assert caught.value.absent
    assert "bgpd is not running" in str(caught.value) and "--bgpd-vty" in str(caught.value)


def test_a_stale_socket_means_bgpd_is_absent(tmp_path: Path) -> None:
    path = tmp_path / "bgpd.vty"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    with pytest.raises(VTYUnavailable) as caught:
        asyncio.run(VTYSession(path, timeout=2).open())
    assert caught.value.absent


def test_a_silent_daemon_times_out(tmp_path: Path) -> None:
    path = tmp_path / "bgpd.vty"

    async def scenario() -> None:
        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            await asyncio.sleep(5)

        server = await asyncio.start_unix_server(mute, path=str(path))
        async with server:
            await VTYSession(path, timeout=0.2).open()

    with pytest.raises(VTYUnavailable, match=r"did not answer `enable` within 0.2 s") as caught:
        asyncio.run(scenario())
    assert not caught.value.absent
