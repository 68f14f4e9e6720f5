"""``python -m stylelab {stylize,train,bench,demo} ...``: see ``stylelab.cli``."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
