"""``python -m entropy_dynamics ...``: the ``entropy-dynamics`` command."""

import sys

from entropy_dynamics.cli.main import main

sys.exit(main())
