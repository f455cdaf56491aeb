"""`python -m dashboards_as_code <command> --project DIR`: the CLI, for child processes that need
a fresh interpreter."""

from dashboards_as_code.cli import main

main()
