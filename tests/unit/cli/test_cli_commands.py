"""The command matcher: Seesaw's FindCommand rules, Tab completion and `?` help (pure, no engine)."""

from __future__ import annotations

import pytest

from seesaw.cli import commands
from seesaw.cli.commands import Action, Command, completions, find_command, help_at


def names(cmds):
    return [c.name for c in cmds]


@pytest.mark.parametrize(
    ("line", "action", "args"),
    [
        ("sh vs", Action.SHOW_VSERVERS, ()),
        ("show vservers", Action.SHOW_VSERVERS, ()),
        ("  show\tvservers  ", Action.SHOW_VSERVERS, ()),
        ("s vse web@site", Action.SHOW_VSERVERS, ("web@site",)),
        ("show ha", Action.SHOW_HA, ()),
        ("sh h", Action.SHOW_HA, ()),
        ("show bgp n", Action.SHOW_BGP_NEIGHBORS, ()),
        ("sh bg nei 10.0.0.1", Action.SHOW_BGP_NEIGHBORS, ("10.0.0.1",)),
        ("show ver", Action.SHOW_VERSION, ()),
        ("show vl 511", Action.SHOW_VLANS, ("511",)),
        ("show c", Action.SHOW_CHECKS, ()),
        ("co rel", Action.CONFIG_RELOAD, ()),
        ("config source disk", Action.CONFIG_SOURCE, ("disk",)),
        ("config ch /tmp/cluster.pb", Action.CONFIG_CHECK, ("/tmp/cluster.pb",)),
        ("f", Action.FAILOVER, ()),
        ("e", Action.EXIT, ()),
        ("q", Action.EXIT, ()),
        ("h", Action.HELP, ()),
        ("o v s def web", Action.OVERRIDE, ("web",)),
        ("o d s e web/1.2.3.4:80/TCP", Action.OVERRIDE, ("web/1.2.3.4:80/TCP",)),
        ("override backend state enabled host1.", Action.OVERRIDE, ("host1.",)),
    ],
)
def test_prefixes_select_a_leaf(line, action, args):
    match = find_command(line)
    assert match.command is not None and match.error is None
    assert match.command.action is action
    assert match.args == args


def test_remaining_tokens_are_arguments():
    match = find_command("show vservers a b c")
    assert match.command is not None
    assert match.args == ("a", "b", "c")
    assert names(match.chain) == ["show", "vservers"]


@pytest.mark.parametrize(
    ("line", "choices"),
    [
        ("show v", ["version", "vlans", "vservers"]),  # ambiguous, not "unknown"
        (
            "show",
            [
                "bgp",
                "backends",
                "checks",
                "destinations",
                "ha",
                "ipvs",
                "nodes",
                "version",
                "vlans",
                "vservers",
                "warnings",
            ],
        ),
        ("sh b", ["bgp", "backends"]),
        ("show bgp", ["neighbors"]),
        ("config s", ["source", "status"]),
        ("override vserver", ["state"]),
        ("override vserver state", ["default", "disabled", "enabled"]),
        ("o v s d", ["default", "disabled"]),
        ("", ["config", "doctor", "exit", "failover", "help", "override", "quit", "show", "whoami"]),
    ],
)
def test_incomplete_commands(line, choices):
    match = find_command(line)
    assert match.command is None
    assert match.error == "Incomplete command."
    assert names(match.choices) == choices


@pytest.mark.parametrize("line", ["foo", "show foo", "show vservers2", "config reloadx", "x show", "show bgp x"])
def test_unknown_commands(line):
    match = find_command(line)
    assert match.command is None
    assert match.choices == ()
    assert match.error == "Unknown command."


def test_unknown_reports_where_matching_stopped():
    match = find_command("show foo bar")
    assert names(match.chain) == ["show"]
    assert match.args == ("foo", "bar")


def test_exact_name_wins_over_prefix():
    tree = (Command("foo", action=Action.HELP), Command("foobar", action=Action.EXIT))
    assert find_command("foo", tree).command is tree[0]
    assert find_command("foob", tree).command is tree[1]
    assert find_command("fo", tree).error == "Incomplete command."


def test_every_leaf_has_a_usage_and_sane_argument_counts():
    for leaf in commands.leaves():
        assert leaf.usage, leaf
        assert 0 <= leaf.min_args <= leaf.max_args <= 1
        # The usage spells the command the way the operator types it (override shows its three states as one).
        typed = leaf.usage.replace("<default|disabled|enabled>", leaf.name).split("<")[0].split("[")[0]
        assert find_command(typed).command == leaf


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("sh vs", ["show vservers "]),
        ("sh", ["show "]),
        ("show v", ["show version ", "show vlans ", "show vservers "]),
        ("", [c + " " for c in ["config", "doctor", "exit", "failover", "help", "override", "quit", "show", "whoami"]]),
        ("o v s d", ["override vserver state default ", "override vserver state disabled "]),
        ("show vservers ", []),  # argument position: nothing to add
        ("sh vs te", ["show vservers te"]),  # ... but the command words are spelled out
        ("foo", []),
        ("foo bar", []),
        ("show x y", []),
    ],
)
def test_tab_completion_rewrites_to_the_command_chain(line, expected):
    assert completions(line) == expected


def test_canonical_line_is_what_seesaw_tab_produces():
    assert commands.canonical_line(find_command("sh vs")) == "show vservers "
    assert commands.canonical_line(find_command("sh v")) == "show v"
    assert commands.canonical_line(find_command("")) == ""


@pytest.mark.parametrize(
    ("line", "lines"),
    [
        ("", (" config", " doctor", " exit", " failover", " help", " override", " quit", " show", " whoami")),
        ("show v", (" version", " vlans", " vservers")),
        ("sh", tuple(f" {n}" for n in names(next(c for c in commands.COMMANDS if c.name == "show").subcommands))),
        ("show vservers", ("  show vservers [<name-or-prefix>]",)),
        ("foo", ("Unknown command.",)),
    ],
)
def test_question_mark_lists_what_can_follow(line, lines):
    assert help_at(line) == lines


def test_json_flag_is_split_from_arguments():
    assert commands.split_json_flag(("web", "--json")) == (("web",), True)
    assert commands.split_json_flag(("web",)) == (("web",), False)
