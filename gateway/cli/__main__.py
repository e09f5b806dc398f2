"""``python -m gateway.cli``: how the gateway starts its children (and how tests start it)."""

import sys

from gateway.cli import main

sys.exit(main())
