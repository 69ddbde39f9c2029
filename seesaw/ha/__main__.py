"""`python -m seesaw.ha`: the same as `seesaw-ha`."""

from seesaw.ha.main import main

main()
