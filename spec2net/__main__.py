"""``python -m spec2net`` is the ``spec2net`` command."""

import sys

from .cli import main

sys.exit(main())
