"""The interactive `seesaw` shell: banner, prompt, readline editing, Tab and `?`.

As Seesaw's interactive mode (binaries/seesaw_cli/main.go):

* a banner (blank line, `Seesaw CLI - Engine version N`, blank line), then
  `WARNING: This seesaw is not currently the master.` unless HA is LEADER;
* the prompt `<user>@<cluster>> `; commands matched by unique prefix;
* Tab completes the unique command chain (the whole line is rewritten to the
  full names: `sh vs` -> `show vservers `); `?` lists the subcommands at the
  cursor, the usage of a complete command, or "Unknown command.";
* errors are printed and the loop goes on; `exit`, `quit`, Ctrl-D and Ctrl-C
  leave with status 0.

History is kept in ~/.seesaw_history. When stdin is not a terminal the lines
are simply executed one after another, with no banner and no prompt, and the
exit status is 1 if any of them failed.
"""

from __future__ import annotations

import os
import pwd
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from seesaw.cli import commands
from seesaw.cli.errors import CliError, EngineUnreachable
from seesaw.cli.execute import Executor, run_and_print
from seesaw.pb import common_pb2

NOT_MASTER_WARNING = "WARNING: This seesaw is not currently the master."
HISTORY_FILE = ".seesaw_history"
HISTORY_LENGTH = 1000
# Besides Ctrl-C and Ctrl-D, these end the shell the same clean way (history saved, status 0), as in Seesaw.
LEAVING_SIGNALS = (signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP)


class _Leave(Exception):
    """Raised by the handler of a LEAVING_SIGNALS signal, wherever the shell is."""


def _leave(signum: int, frame: object) -> None:
    raise _Leave(signum)


@contextmanager
def _leaving_on_signals() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _leave) for sig in LEAVING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def username() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def history_path() -> Path:
    return Path(os.path.expanduser("~")) / HISTORY_FILE


class Shell:
    def __init__(self, executor: Executor, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.executor = executor
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.prompt = ""
        self._matches: list[str] = []
        self._help_mode = False
        self._help_line = ""

    # -- running ----------------------------------------------------------------------------------------------------

    def run(self) -> int:
        if not self.stdin.isatty():
            return self._run_script()
        try:
            self.prompt = self._greet()
        except CliError as err:
            self.stderr.write(f"{err}\n")
            return 1
        self._setup_readline()
        try:
            with _leaving_on_signals():
                self._loop()
        except _Leave:
            self.stdout.write("\n")
        finally:
            self._save_history()
        return 0

    def _greet(self) -> str:
        """Print the banner and the master warning; return the prompt."""
        engine = self.executor.engine
        try:
            cluster = engine.cluster_status()
        except EngineUnreachable:
            raise
        except CliError as err:
            raise CliError(f"Failed to get cluster status: {err}") from None
        self.stdout.write(f"\nSeesaw CLI - Engine version {cluster.version}\n\n")
        try:
            ha = engine.ha_status()
        except EngineUnreachable:
            raise
        except CliError as err:
            raise CliError(f"Failed to get HA status: {err}") from None
        if ha.state != common_pb2.HA_LEADER:
            self.stdout.write(f"{NOT_MASTER_WARNING}\n")
        self.stdout.flush()
        return f"{username()}@{cluster.site}> "

    def _loop(self) -> None:
        while True:
            try:
                line = input(self.prompt)
            except (EOFError, KeyboardInterrupt):
                self.stdout.write("\n")
                return
            if not line.strip():
                continue
            try:
                if self.execute(line):
                    return
            except KeyboardInterrupt:
                self.stdout.write("\n")
                return

    def execute(self, line: str) -> bool:
        """Run one line, print what it says (errors too, on stdout, as Seesaw does); True to leave the shell."""
        return run_and_print(self.executor, line, self.stdout, self.stdout).leave

    def _run_script(self) -> int:
        status = 0
        for line in self.stdin:
            if not line.strip():
                continue
            outcome = run_and_print(self.executor, line, self.stdout, self.stderr)
            status = max(status, outcome.status)
            if outcome.leave:
                break
        return status

    # -- readline ---------------------------------------------------------------------------------------------------

    def _setup_readline(self) -> None:
        import readline

        readline.set_completer_delims("")  # the whole line before the cursor is the "word" to complete
        readline.set_completer(self._complete)
        readline.set_completion_display_matches_hook(self._display)
        for binding in (
            "set enable-bracketed-paste off",
            "set show-all-if-ambiguous on",
            "tab: complete",
            '"?": possible-completions',
        ):
            readline.parse_and_bind(binding)
        readline.set_history_length(HISTORY_LENGTH)
        try:
            readline.read_history_file(history_path())
        except OSError:
            pass

    def _save_history(self) -> None:
        import readline

        path = history_path()
        try:
            readline.write_history_file(path)
            path.chmod(0o600)
        except OSError:
            pass

    def _complete(self, text: str, state: int) -> str | None:
        """readline's completer; `text` is the whole line up to the cursor."""
        import readline

        if state == 0:
            self._help_mode = readline.get_completion_type() == ord("?")
            # `?` always goes through the display hook: two distinct entries keep readline from printing a lone
            # match itself.
            self._matches = ["?", "? "] if self._help_mode else commands.completions(text)
            self._help_line = text
        return self._matches[state] if state < len(self._matches) else None

    def _display(self, substitution: str, matches: list[str], longest: int) -> None:
        """readline's display hook: print the `?` help or the Tab choices Seesaw's way, then redraw the line."""
        import readline

        if self._help_mode:
            lines = commands.help_at(self._help_line)
            self.stdout.write("?\n")
        else:
            # Our own list, not readline's: it is in the tree's order, as `?` shows it.
            lines = tuple(f" {match.split()[-1]}" for match in self._matches)
            self.stdout.write("\n")
        self.stdout.write("".join(f"{line}\n" for line in lines))
        line = readline.get_line_buffer()
        # Redraw the line and put the cursor back where it was (readline still thinks it is there).
        self.stdout.write(self.prompt + line + "\b" * (len(line) - readline.get_endidx()))
        self.stdout.flush()


def run(executor: Executor) -> int:
    return Shell(executor, sys.stdin, sys.stdout, sys.stderr).run()
