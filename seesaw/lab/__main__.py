"""`python -m seesaw.lab`: the same as `seesaw lab`."""

import sys

from seesaw.lab.main import main

sys.exit(main())
