"""``python -m sim.cli``: the queuefull command."""

import sys

from sim.cli import main

sys.exit(main())
