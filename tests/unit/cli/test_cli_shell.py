"""The interactive shell, driven through a real pseudo-terminal: banner, warning, prompt, Tab, `?`, history, leaving."""

from __future__ import annotations

import os
import pty
import pwd
import select
import subprocess
import sys
import time
from pathlib import Path

import cli_fake_engine as fake
import grpc
import pytest

USER = pwd.getpwuid(os.getuid()).pw_name


class Terminal:
    """`seesaw` running on a pty; what it prints is collected with '\\r\\n' turned back into '\\n'."""

    def __init__(self, argv: list[str], home: Path) -> None:
        env = {**os.environ, "HOME": str(home), "TERM": "dumb", "TZ": "UTC"}
        env.pop("INPUTRC", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the CLI at once
            os.execve(sys.executable, [sys.executable, "-m", "seesaw.cli", *argv], env)
        self.seen = ""
        self.status: int | None = None

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def expect(self, text: str, timeout: float = 10.0) -> str:
        """Read until `text` appears; return everything read up to and including it."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"did not see {text!r}; got {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {text!r}; got {self.seen!r}")
                self.seen += chunk.decode().replace("\r\n", "\n")
        upto = self.seen.index(text) + len(text)
        consumed, self.seen = self.seen[:upto], self.seen[upto:]
        return consumed

    def wait(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                while self._drain(0.0):  # what it wrote just before it exited (it exits at once)
                    pass
                return self.status
            self._drain(0.05)  # keep draining so that the child never blocks on a full pty
        raise AssertionError("the shell did not exit")

    def _drain(self, timeout: float) -> bool:
        """Read what the terminal holds (waiting up to `timeout` for it); False once there is nothing."""
        try:
            if not select.select([self.fd], [], [], timeout)[0]:
                return False
            chunk = os.read(self.fd, 65536)
        except OSError:  # the child closed the terminal: nothing more
            return False
        self.seen += chunk.decode().replace("\r\n", "\n")
        return bool(chunk)

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path):
    opened: list[Terminal] = []

    def start(*argv: str) -> Terminal:
        term = Terminal(list(argv), tmp_path)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def test_banner_prompt_command_tab_help_and_exit(serve_engine, terminal, golden, tmp_path):
    engine = serve_engine(fake.observed())
    term = terminal("--engine", str(engine.path))
    prompt = f"{USER}@test-cluster> "
    assert term.expect(prompt) == f"\nSeesaw CLI - Engine version 2\n\n{prompt}"  # LEADER: no warning

    # Tab rewrites the line to the full command chain, as Seesaw does.
    term.send("sh vs\t")
    term.expect("ow vservers ")
    term.send("\r")
    assert term.expect(prompt) == "\n" + golden("observed_show_vservers.txt") + prompt

    # `?` lists what can follow, in the tree's order, and gives the line back.
    term.send("show v?")
    assert term.expect(f"{prompt}show v") == f"show v?\n version\n vlans\n vservers\n{prompt}show v"
    term.send("\x15")  # Ctrl-U: clear the line
    term.send("foo?")
    assert term.expect(f"{prompt}foo").endswith(f"foo?\nUnknown command.\n{prompt}foo")
    term.send("\x15show ha?")
    assert term.expect(f"{prompt}show ha").endswith(f"show ha?\n  show ha\n{prompt}show ha")

    # A Tab on an ambiguous word offers the choices.
    term.send("\x15show b\t")
    assert term.expect(f"{prompt}show b").endswith(f"\n bgp\n backends\n{prompt}show b")

    # Errors are printed and the loop goes on.
    term.send("\x15foo\r")
    assert term.expect(prompt).endswith(f"foo\nUnknown command.\n{prompt}")
    term.send("show vservers a b\r")
    assert term.expect(prompt).endswith("show vservers [<name-or-prefix>]\nIncorrect arguments given.\n" + prompt)

    term.send("exit\r")
    assert term.wait() == 0
    history = (tmp_path / ".seesaw_history").read_text().splitlines()
    assert history[-3:] == ["foo", "show vservers a b", "exit"]
    assert "sh vs" not in history and "show vservers " in history  # what was run, as Tab left it
    assert (tmp_path / ".seesaw_history").stat().st_mode & 0o777 == 0o600


def test_not_master_warning(serve_engine, terminal):
    engine = serve_engine(fake.two_node_backup())
    term = terminal("--engine", str(engine.path))
    banner = term.expect(f"{USER}@test-cluster> ")
    assert banner == (
        f"\nSeesaw CLI - Engine version 2\n\nWARNING: This seesaw is not currently the master.\n{USER}@test-cluster> "
    )
    term.send("quit\r")
    assert term.wait() == 0


@pytest.mark.parametrize("key", ["\x04", "\x03"], ids=["ctrl-d", "ctrl-c"])
def test_ctrl_d_and_ctrl_c_leave(key, serve_engine, terminal):
    engine = serve_engine(fake.observed())
    term = terminal("--engine", str(engine.path))
    term.expect("> ")
    # A person never presses Ctrl-C within microseconds of the prompt; a test would, and could land in the gap
    # between CPython's readline printing the prompt and its select() (a SIGINT there waits for the next key).
    time.sleep(0.3)
    term.send(key)
    assert term.wait() == 0
    assert term.seen == "\n"


def test_history_is_read_back(serve_engine, terminal, tmp_path):
    (tmp_path / ".seesaw_history").write_text("show destinations\n")
    engine = serve_engine(fake.observed())
    term = terminal("--engine", str(engine.path))
    prompt = f"{USER}@test-cluster> "
    term.expect(prompt)
    term.send("\x1b[A")  # up arrow: the previous session's last command
    term.send("\r")
    assert "Destinations\n[   1] test-vserver/192.168.37.71:80/TCP" in term.expect(prompt)
    term.send("exit\r")
    assert term.wait() == 0


def test_no_engine_in_interactive_mode(terminal, tmp_path):
    path = tmp_path / "engine.sock"
    term = terminal("--engine", str(path))
    assert term.wait() == 1
    assert term.seen == (
        f"Failed to connect to engine at {path}: no such file. Is seesaw running? (systemctl status seesaw)\n"
    )


def test_engine_without_config_in_interactive_mode(serve_engine, terminal):
    state = fake.observed()
    state.failures["GetClusterStatus"] = (grpc.StatusCode.FAILED_PRECONDITION, "no cluster configuration loaded")
    engine = serve_engine(state)
    term = terminal("--engine", str(engine.path))
    assert term.wait() == 1
    assert term.seen == "Failed to get cluster status: no cluster configuration loaded\n"


def test_piped_commands_run_without_banner(serve_engine, golden):
    engine = serve_engine(fake.observed())
    proc = subprocess.run(
        [sys.executable, "-m", "seesaw.cli", "--engine", str(engine.path)],
        input="show vservers\n\nfoo\nshow backends\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert proc.stdout == golden("observed_show_vservers.txt") + golden("observed_show_backends.txt")
    assert proc.stderr == "Unknown command.\n"


def test_question_mark_in_the_middle_of_a_line(serve_engine, terminal, golden):
    engine = serve_engine(fake.observed())
    term = terminal("--engine", str(engine.path))
    prompt = f"{USER}@test-cluster> "
    term.expect(prompt)
    term.send("show vservers" + "\x02" * 9)  # Ctrl-B x9: the cursor is now right after "show"
    term.send("?")
    listed = term.expect(prompt + "show vservers" + "\b" * 9)
    assert "\n bgp\n backends\n checks\n" in listed
    term.send("\x05\r")  # Ctrl-E, Enter: `?` inserted nothing
    assert term.expect(golden("observed_show_vservers.txt") + prompt)
    term.send("exit\r")
    assert term.wait() == 0


def test_sigterm_leaves_cleanly_and_keeps_history(serve_engine, terminal, tmp_path):
    engine = serve_engine(fake.observed())
    term = terminal("--engine", str(engine.path))
    prompt = f"{USER}@test-cluster> "
    term.expect(prompt)
    term.send("show ha\r")
    term.expect(prompt)
    time.sleep(0.3)  # let readline reach its select() (see test_ctrl_d_and_ctrl_c_leave)
    os.kill(term.pid, 15)
    assert term.wait() == 0
    assert (tmp_path / ".seesaw_history").read_text().splitlines() == ["show ha"]
