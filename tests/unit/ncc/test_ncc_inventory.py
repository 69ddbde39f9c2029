"""The inventory: objects by partition, each with exactly one owner."""

from ncc_build import vip

from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import ref


def test_replace_put_discard_keep_the_owner_index_right():
    inv = Inventory()
    a, b, c = vip("192.0.2.1"), vip("192.0.2.2"), vip("192.0.2.3")
    inv.replace("p", {ref(a): a, ref(b): b})
    assert inv.owner(ref(a)) == "p" and inv.get(ref(b)) == b and len(inv) == 2
    inv.replace("q", {ref(b): b, ref(c): c})  # b moves to q
    assert inv.owner(ref(b)) == "q"
    assert dict(inv.objects("p")) == {ref(a): a}
    inv.replace("p", None)
    assert inv.names() == ["q"] and ref(a) not in inv
    inv.put("r", c)  # c moves to r
    assert inv.owner(ref(c)) == "r" and dict(inv.objects("q")) == {ref(b): b}
    inv.discard(ref(b))
    assert inv.names() == ["r"]  # an emptied partition disappears
    assert sorted((name, str(spec.address)) for name, _, spec in inv.items()) == [("r", "192.0.2.3")]
    inv.discard(ref(b))  # discarding twice is harmless
    assert len(inv) == 1


def test_replacing_a_partition_does_not_alias_the_callers_dict():
    inv = Inventory()
    content = {ref(vip()): vip()}
    inv.replace("p", content)
    content.clear()
    assert len(inv.objects("p")) == 1
