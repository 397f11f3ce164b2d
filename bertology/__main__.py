"""``python -m bertology`` runs the CLI."""

import sys

from bertology.cli import main

sys.exit(main())
