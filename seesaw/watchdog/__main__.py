"""`python -m seesaw.watchdog`: the same as `seesaw-watchdog`."""

from seesaw.watchdog.main import main

main()
