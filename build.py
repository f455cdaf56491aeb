#!/usr/bin/env python3
"""TikTickets dashboards-as-code: `python build.py --help`.

The commands live in the engine (`dashboards_as_code/cli.py`); this file runs them on the checkout
it lives in.
"""

from pathlib import Path

from dashboards_as_code.cli import main

if __name__ == "__main__":
    main(Path(__file__).resolve().parent)
