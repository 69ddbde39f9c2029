"""Field path -> line:col, the index every cluster.pb message is placed with."""

from seesaw.config.locate import PositionIndex, parent_path, tokenize
from seesaw.pb import config_pb2

TEXT = """\
# a comment
seesaw_vip: <
  fqdn: "vip" "concatenated"
  status: PRODUCTION
>
vserver {
  name: "a",
  vserver_entry { protocol: TCP port: 80 }
  vserver_entry <
    protocol: UDP; port: -53
    healthcheck { type: DNS }
    healthcheck { type: TCP interval: 5 }
  >
}
vserver [ { name: "b" }, { name: "c" } ]
dedicated_vip_subnet: ["10.0.0.0/24", "10.0.1.0/24"]
metadata { last_updated: 1 }
"""


def index() -> PositionIndex:
    return PositionIndex(TEXT, config_pb2.Cluster.DESCRIPTOR)


def test_singular_and_repeated_paths():
    idx = index()
    assert idx.find("seesaw_vip") == (2, 1)
    assert idx.find("seesaw_vip.fqdn") == (3, 3)
    assert idx.find("seesaw_vip.status") == (4, 3)
    assert idx.find("vserver[0]") == (6, 1)
    assert idx.find("vserver[0].name") == (7, 3)
    assert idx.find("vserver[0].vserver_entry[0].port") == (8, 33)
    assert idx.find("vserver[0].vserver_entry[1].port") == (10, 20)
    assert idx.find("vserver[0].vserver_entry[1].healthcheck[1].interval") == (12, 29)
    assert idx.find("metadata.last_updated") == (17, 12)


def test_list_syntax_indexes_each_element():
    idx = index()
    assert idx.find("vserver[1]") == (15, 11)
    assert idx.find("vserver[2].name") == (15, 28)
    assert idx.find("dedicated_vip_subnet[0]") == (16, 24)
    assert idx.find("dedicated_vip_subnet[1]") == (16, 39)


def test_missing_fields_fall_back_to_the_nearest_ancestor():
    idx = index()
    assert "vserver[0].rp" not in idx
    assert idx.find("vserver[0].rp") == (6, 1)
    assert idx.find("vserver[0].vserver_entry[1].healthcheck[0].port") == (11, 5)
    assert idx.find("node[3].fqdn") == (1, 1)
    assert idx.find("") == (1, 1)


def test_field_at_attributes_a_position_to_the_field_before_it():
    idx = index()
    assert idx.field_at(4, 11) == "seesaw_vip.status"
    assert idx.field_at(12, 40) == "vserver[0].vserver_entry[1].healthcheck[1].interval"
    assert idx.field_at(1, 1) == ""


def test_parent_path():
    assert parent_path("a.b[1].c") == "a.b[1]"
    assert parent_path("a.b[1]") == "a.b"
    assert parent_path("a") == ""


def test_tokenizer_positions_and_garbage():
    tokens = tokenize('a: "x\\"y" # c\n  b <\x00>')
    assert [(t.kind, t.text, t.line, t.col) for t in tokens] == [
        ("word", "a", 1, 1),
        ("punct", ":", 1, 2),
        ("string", '"x\\"y"', 1, 4),
        ("word", "b", 2, 3),
        ("punct", "<", 2, 5),
        ("punct", "\x00", 2, 6),
        ("punct", ">", 2, 7),
    ]


def test_index_survives_broken_text():
    for text in ["vserver { name: ", "}}}>>> [[[", "vserver { vserver_entry [ { port: 1 }, ", "a" * 3 + "{" * 500]:
        idx = PositionIndex(text, config_pb2.Cluster.DESCRIPTOR)
        assert idx.find("vserver[0].name")[0] >= 1
