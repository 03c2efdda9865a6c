"""`python -m aaa.cli`."""

import sys

from aaa.cli import main

sys.exit(main())
