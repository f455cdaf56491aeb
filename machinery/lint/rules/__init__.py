"""One lint rule per module; each defines `RULE` and has a test in tests/lint/."""
