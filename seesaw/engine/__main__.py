"""`python -m seesaw.engine`: the same as `seesaw-engine`."""

from seesaw.engine.main import main

main()
