"""``python -m nnlab`` runs the command line."""

import sys

from nnlab.cli import main

sys.exit(main())
