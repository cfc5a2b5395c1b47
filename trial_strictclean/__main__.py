"""``python -m trial_strictclean``: the ``trial-strictclean`` command line."""

import sys

from .cli import main

sys.exit(main())
