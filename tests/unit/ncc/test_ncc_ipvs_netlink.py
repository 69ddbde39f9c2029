"""The IPVS part's netlink socket, against a real kernel: the generic netlink controller ("nlctrl").

Every Linux kernel has the controller family, no privilege is needed to ask it, and it refuses an unknown family
name with ENOENT; so batching, sequence matching and dumps run here for real, with no IPVS and no root.
"""

from __future__ import annotations

import errno

import pytest

from seesaw.ncc.kernel import ipvs_codec as codec
from seesaw.ncc.kernel import ipvs_netlink
from seesaw.ncc.kernel.ipvs_netlink import GenericNetlink, NetlinkError

GOOD = codec.family_request("nlctrl")


def bad(index: int) -> bytes:
    return codec.family_request(f"nofam{index}")  # family names are under 16 bytes


@pytest.fixture
def nlctrl():
    netlink = GenericNetlink("nlctrl")
    yield netlink
    netlink.close()


def test_resolves_a_family_id(nlctrl):
    assert nlctrl.family_id == codec.GENL_ID_CTRL


def test_an_unknown_family_is_enoent():
    with pytest.raises(NetlinkError) as caught:
        GenericNetlink("no-such-family")
    assert caught.value.errno == errno.ENOENT


def test_a_batch_answers_each_request_by_its_position(nlctrl):
    requests = [GOOD, bad(1), GOOD, GOOD, bad(2)]
    answers = nlctrl.batch(requests)
    assert [a.code if a else None for a in answers] == [None, errno.ENOENT, None, None, errno.ENOENT]
    assert nlctrl.batches == 1 and nlctrl.requests == 5


def test_a_large_batch_is_split_and_every_refusal_lands_on_its_request(nlctrl, monkeypatch):
    monkeypatch.setattr(ipvs_netlink, "MAX_BATCH", 100)
    failing = {3, 99, 100, 101, 250, 999}
    requests = [bad(i) if i in failing else GOOD for i in range(1000)]
    answers = nlctrl.batch(requests)
    assert {i for i, a in enumerate(answers) if a is not None} == failing
    assert all(a.code == errno.ENOENT for a in answers if a is not None)
    assert nlctrl.batches == 10


def test_sequence_numbers_keep_batches_apart(nlctrl):
    assert nlctrl.batch([bad(1)])[0].code == errno.ENOENT
    assert nlctrl.batch([GOOD, GOOD]) == [None, None]
    assert nlctrl.batch([]) == []


def test_a_dump_returns_every_message_until_done(nlctrl):
    request = bytearray(codec.family_request("nlctrl"))
    del request[codec.NLMSG_HDRLEN + codec.GENL_HDRLEN :]  # a dump of every family takes no attribute
    request[0:4] = len(request).to_bytes(4, "little")
    families = nlctrl.dump(bytes(request))
    assert len(families) >= 2
    assert codec.GENL_ID_CTRL in {codec.decode_family_id(m) for m in families}
    # the socket is still in step afterwards
    assert nlctrl.batch([bad(3)])[0].code == errno.ENOENT


def test_a_refusal_carries_the_kernels_extended_ack_text(nlctrl):
    [answer] = nlctrl.batch([codec.family_request("x" * 20)])  # longer than the 16 bytes a family name may take
    assert answer is not None and answer.code == errno.EINVAL
    assert "policy" in answer.detail


def test_sequence_numbers_wrap_before_32_bits(nlctrl):
    nlctrl._seq = (1 << 32) - 3
    answers = nlctrl.batch([GOOD, bad(1), GOOD, bad(2)])
    assert [a.code if a else None for a in answers] == [None, errno.ENOENT, None, errno.ENOENT]
    assert 0 < nlctrl._seq < 10


def test_an_answer_larger_than_the_receive_buffer_is_an_error_not_a_cut(monkeypatch):
    monkeypatch.setattr(ipvs_netlink, "RECV_BYTES", 64)  # the controller's answer about a family is ~1 KiB
    with pytest.raises(NetlinkError) as caught:
        GenericNetlink("nlctrl")
    assert caught.value.errno == errno.EMSGSIZE and "did not fit 64" in str(caught.value)
