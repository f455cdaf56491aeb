"""One lint check per module; each defines `CHECK` and has a test in tests/lint/."""
