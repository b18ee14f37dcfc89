"""``python -m isoqube``: the isoqube command line."""

import sys

from isoqube.cli import main

if __name__ == "__main__":
    sys.exit(main())
