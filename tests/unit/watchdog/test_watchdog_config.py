"""watchdog.cfg parsing: Seesaw's shipped file, our own, and every error an operator can hit."""

import os
import pwd
from pathlib import Path

import pytest

from seesaw.watchdog.config import ConfigError, Settings, load

REPO = Path(__file__).resolve().parents[3]
SEESAW_CFG = REPO / "tests/data/compat/etc/seesaw/watchdog.cfg"
OUR_CFG = REPO / "etc/seesaw/watchdog.cfg"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watchdog.cfg"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    return str(err.value)


def test_seesaws_shipped_file_parses_as_seesaw_reads_it():
    cfg = load(SEESAW_CFG)
    assert list(cfg.services) == ["ncc", "engine", "ecu", "ha", "healthcheck"]  # dependencies first
    table = {
        name: (svc.binary, svc.args, svc.dependency, svc.priority, svc.term_timeout)
        for name, svc in cfg.services.items()
    }
    assert table == {
        "ecu": ("/usr/local/seesaw/seesaw_ecu", ("-log_dir=/var/log/seesaw",), "engine", 0, 5.0),
        "engine": ("/usr/local/seesaw/seesaw_engine", ("-log_dir=/var/log/seesaw",), "ncc", -10, 10.0),
        "ha": ("/usr/local/seesaw/seesaw_ha", ("-log_dir=/var/log/seesaw",), "engine", -15, 5.0),
        "healthcheck": ("/usr/local/seesaw/seesaw_healthcheck", ("-log_dir=/var/log/seesaw",), "engine", 0, 5.0),
        "ncc": ("/usr/local/seesaw/seesaw_ncc", ("-log_dir=/var/log/seesaw",), None, -10, 5.0),
    }
    assert all(svc.uid == 0 and svc.gid == 0 and svc.user is None for svc in cfg.services.values())
    assert cfg.services["ha"].argv0 == "seesaw_ha"
    assert cfg.settings == Settings()
    assert cfg.warnings == ()


def test_our_default_file_has_seesaws_shape():
    cfg = load(OUR_CFG)
    assert set(cfg.services) == {"ncc", "engine", "ha", "healthcheck", "ecu"}
    deps = {name: svc.dependency for name, svc in cfg.services.items()}
    assert deps == {"ncc": None, "engine": "ncc", "ha": "engine", "healthcheck": "engine", "ecu": "engine"}
    prios = {name: svc.priority for name, svc in cfg.services.items()}
    assert prios == {"ncc": -10, "engine": -10, "ha": -15, "healthcheck": 0, "ecu": 0}
    assert cfg.services["engine"].term_timeout == 10.0
    assert {svc.binary for svc in cfg.services.values()} == {f"seesaw-{n}" for n in cfg.services}
    assert all(svc.args == () for svc in cfg.services.values())
    assert cfg.warnings == ()


def test_default_section_holds_our_knobs(tmp_path):
    cfg = load(
        write(
            tmp_path,
            "[default]\nrestart_delay = 250ms\nmax_backoff = 1m\nhealthy_after = 45s\n"
            "start_timeout = 20s\nunhealthy_timeout = 0\nlog_dir = /srv/log\n\n[ncc]\nbinary = seesaw-ncc\n",
        )
    )
    assert cfg.settings == Settings(0.25, 60.0, 45.0, 20.0, 0.0, Path("/srv/log"))
    assert list(cfg.services) == ["ncc"]


def test_goconf_syntax(tmp_path):
    cfg = load(
        write(
            tmp_path,
            "bindir = /opt/seesaw   # options before any section are [default]\n"
            "; a comment\n# another\n"
            "[NCC]\n"
            "Binary: %(bindir)s/seesaw-ncc\n"
            "args = --one 'two words'\n"
            '  "three four"\n'
            "args_unused = x\n",
        )
    )
    ncc = cfg.services["ncc"]
    assert ncc.binary == "/opt/seesaw/seesaw-ncc"
    assert ncc.args == ("--one", "two words", "three four")
    assert len(cfg.warnings) == 2  # bindir in [default], args_unused in [ncc]: unknown, ignored
    assert any(":8: [ncc] args_unused: unknown key" in w for w in cfg.warnings)


def test_user_resolves_to_uid_and_gid(tmp_path):
    me = pwd.getpwuid(os.getuid())
    nobody = pwd.getpwnam("nobody")
    cfg = load(write(tmp_path, f"[a]\nbinary=/bin/true\nuser = {me.pw_name}\n[b]\nbinary=/bin/true\nuser=nobody\n"))
    assert (cfg.services["a"].uid, cfg.services["a"].gid) == (me.pw_uid, me.pw_gid)
    assert (cfg.services["b"].user, cfg.services["b"].uid, cfg.services["b"].gid) == (
        "nobody",
        nobody.pw_uid,
        nobody.pw_gid,
    )


def test_later_value_wins_and_sections_merge(tmp_path):
    cfg = load(write(tmp_path, "[a]\nbinary=/bin/false\n[b]\nbinary=/bin/true\n[a]\nbinary=/bin/true\npriority=3\n"))
    assert (cfg.services["a"].binary, cfg.services["a"].priority) == ("/bin/true", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ncc]\nargs = x\n", ":1: [ncc] binary: missing; add a line such as 'binary = seesaw-ncc'"),
        (
            "[ncc]\nbinary = x\n\n[engine]\nbinary = y\ndependency = nnc\n",
            ":6: [engine] dependency: no service named 'nnc'",
        ),
        (
            "[ncc]\nbinary = x\npriority = -21\n",
            ":3: [ncc] priority: '-21' is not a nice value; use an integer -20..19",
        ),
        ("[ncc]\nbinary = x\npriority = 20\n", ":3: [ncc] priority: '20'"),
        ("[ncc]\nbinary = x\npriority = high\n", ":3: [ncc] priority: 'high'"),
        ("[ncc]\nbinary = x\nterm_timeout = 10\n", ":3: [ncc] term_timeout: missing unit in duration '10'"),
        ("[ncc]\nbinary = x\nterm_timeout = ten\n", ":3: [ncc] term_timeout: invalid duration 'ten'"),
        ("[ncc]\nbinary = x\nterm_timeout = -1s\n", ":3: [ncc] term_timeout: '-1s' is negative"),
        ("[ncc]\nbinary = x\nuser = no-such-user-here\n", ":3: [ncc] user: no user 'no-such-user-here'"),
        ("[ncc]\nbinary = x\nargs = 'open\n", ":3: [ncc] args: No closing quotation; close the quote"),
        ("[ncc]\nbinary = x\ndependency = ncc\n", ":3: [ncc] dependency: a service cannot depend on itself"),
        ("[ncc]\nbinary = x\nhealth_check = perhaps\n", ":3: [ncc] health_check: 'perhaps' is not yes or no"),
        ("[ncc\nbinary = x\n", ":1: malformed section header '[ncc'"),
        ("[ncc]\nbinary x\n", ":2: expected 'key = value' or [section]"),
        ("[ncc]\nbinary = %(bindir)s/x\n", ":2: binary: %(bindir)s names no option in [ncc] or [default]"),
        ("[default]\nrestart_delay = 0\n[ncc]\nbinary = x\n", ":2: [default] restart_delay: must be above 0"),
        ("[default]\nmax_backoff = 1s\nrestart_delay = 2s\n[a]\nbinary=x\n", ":2: [default] max_backoff: must be at"),
        ("[default]\nlog_dir = /x\n", "no services: add a [name] section with a binary = line"),
        ("[n/c]\nbinary = x\n", ":1: [n/c]: a service name is a plain word"),
    ],
)
def test_errors_name_file_line_key_and_what_to_do(tmp_path, text, expected):
    message = error_of(tmp_path, text)
    assert message.startswith(str(tmp_path / "watchdog.cfg"))
    assert expected in message


def test_unknown_dependency_lists_the_known_services(tmp_path):
    message = error_of(tmp_path, "[ncc]\nbinary = x\n[engine]\nbinary = y\ndependency = nnc\n")
    assert "(engine, ncc)" in message


def test_dependency_cycle_is_an_error(tmp_path):
    message = error_of(
        tmp_path,
        "[a]\nbinary = x\ndependency = c\n[b]\nbinary = x\ndependency = a\n[c]\nbinary = x\ndependency = b\n"
        "[d]\nbinary = x\n",
    )
    assert "dependency cycle a -> c -> b -> a" in message
    assert ":3: [a] dependency:" in message
    assert "remove one of these dependency lines" in message


def test_start_order_puts_dependencies_first_whatever_the_file_order(tmp_path):
    cfg = load(
        write(tmp_path, "[c]\nbinary=x\ndependency=b\n[b]\nbinary=x\ndependency=a\n[d]\nbinary=x\n[a]\nbinary=x\n")
    )
    order = list(cfg.services)
    assert order.index("a") < order.index("b") < order.index("c")
    assert cfg.dependents("a") == ["b"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file: create it"):
        load(tmp_path / "nope.cfg")
    bad = tmp_path / "latin1.cfg"
    bad.write_bytes(b"[ncc]\nbinary = caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(bad)
