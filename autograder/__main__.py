"""`python -m autograder ...`: the same as the `autograder` console script."""

import sys

from .cli import main

sys.exit(main())
