"""`python -m cli ARGS` = `partnerbot ARGS` (and `python bot.py` = `python -m cli run`)."""

from __future__ import annotations

import sys

from cli.main import main

if __name__ == "__main__":
    main(sys.argv[1:])
