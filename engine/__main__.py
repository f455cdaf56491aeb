"""`python -m engine <command> --project DIR`: the CLI, for child processes that need a fresh interpreter."""

from engine.cli import main

main()
