"""``python -m kalshi_margin_stream``: the same as the ``kalshi-margin-stream`` command."""

import sys

from .cli.main import main

sys.exit(main())
