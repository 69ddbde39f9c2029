"""Whatever the input, the parsers either load it or raise ConfigError whose
problems are placed in the file: no other exception ever escapes."""

import re
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seesaw.config import ConfigError, cluster_from_bytes, parse_cluster_text, parse_settings_text, read_cluster_text
from seesaw.config.model import Cluster
from seesaw.config.settings import Settings

COMPAT = Path(__file__).parents[2] / "data" / "compat"
CLUSTER_EXAMPLE = (COMPAT / "etc" / "seesaw" / "cluster.pb.example").read_text()
VSERVERS = (COMPAT / "engine" / "config" / "testdata" / "vservers1.pb").read_text()
CFG_EXAMPLE = (COMPAT / "etc" / "seesaw" / "seesaw.cfg.example").read_text()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


def assert_cluster_outcome(text: str) -> None:
    try:
        cluster = parse_cluster_text(text, "c.pb", "x")
    except ConfigError as err:
        assert err.problems, "a ConfigError must carry problems"
        assert any(p.is_error for p in err.problems)
        for problem in err.problems:
            assert problem.path == "c.pb"
            assert 1 <= problem.line <= max(text.count("\n") + 1, 1), problem
            assert problem.col >= 1, problem
            assert str(problem).startswith(f"c.pb:{problem.line}:{problem.col}: ")
        return
    assert isinstance(cluster, Cluster)


def assert_settings_outcome(text: str) -> None:
    try:
        parsed = parse_settings_text(text, "s.cfg")
    except ConfigError as err:
        assert any(p.is_error for p in err.problems)
        for problem in err.problems:
            assert 1 <= problem.line <= max(text.count("\n") + 1, 1), problem
        return
    assert isinstance(parsed.settings, Settings)


@st.composite
def mutated(draw: st.DrawFn, source: str) -> str:
    """A real file with lines deleted or duplicated, tokens swapped, numbers replaced."""
    lines = source.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "number", "insert"]))
        i = draw(st.integers(0, len(lines) - 1))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            tokens = TOKEN.findall(lines[i])
            j = draw(st.integers(0, len(lines) - 1))
            others = TOKEN.findall(lines[j])
            if tokens and others:
                a, b = draw(st.sampled_from(tokens)), draw(st.sampled_from(others))
                lines[i], lines[j] = lines[i].replace(a, b, 1), lines[j].replace(b, a, 1)
        elif action == "number":
            number = draw(st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=True)))
            lines[i] = re.sub(r"-?\d+(\.\d+)?", str(number), lines[i], count=1)
        else:
            lines.insert(i, draw(st.text(max_size=20)))
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@FUZZ
@given(st.text(max_size=300))
@example("vserver {" * 200)
@example('seesaw_vip { fqdn: "\\xff" }')
@example("\x00")
def test_random_text_as_cluster(text):
    assert_cluster_outcome(text)


@FUZZ
@given(mutated(CLUSTER_EXAMPLE))
def test_mutated_seesaw_example_cluster(text):
    assert_cluster_outcome(text)


@FUZZ
@given(mutated(VSERVERS))
def test_mutated_vservers_testdata(text):
    assert_cluster_outcome(text)


@FUZZ
@given(st.binary(max_size=300))
@example(b"Z\x03\x00\x00\x80")
@example(b"\x1a\x03\x00\x00\x80")
def test_random_bytes_as_binary_cluster(data):
    try:
        assert isinstance(cluster_from_bytes(data, "x", "server"), Cluster)
    except ConfigError as err:
        assert all(p.path == "server" for p in err.problems)


@st.composite
def corrupted_binary(draw: st.DrawFn) -> bytes:
    """The binary form of a real cluster, with bytes overwritten, dropped or inserted."""
    data = bytearray(read_cluster_text(VSERVERS, "v.pb", "x").proto.SerializeToString())
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["set", "drop", "insert"]))
        if action == "set":
            data[i] = draw(st.integers(0, 255))
        elif action == "drop" and len(data) > 1:
            del data[i]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


@FUZZ
@given(corrupted_binary())
def test_corrupted_binary_cluster(data):
    try:
        assert isinstance(cluster_from_bytes(data, "x", "server"), Cluster)
    except ConfigError as err:
        assert err.problems and all(p.path == "server" for p in err.problems)


@FUZZ
@given(st.text(max_size=300))
@example("[cluster]\nname = %(x)s\n")
@example("[DEFAULT]\nname = x\n")
def test_random_text_as_settings(text):
    assert_settings_outcome(text)


@FUZZ
@given(mutated(CFG_EXAMPLE))
def test_mutated_seesaw_cfg_example(text):
    assert_settings_outcome(text)
