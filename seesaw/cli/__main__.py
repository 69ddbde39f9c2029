"""`python -m seesaw.cli`: the same as the `seesaw` command."""

from seesaw.cli.main import run

run()
