"""Definitions -> normalised documents (`documents.py`) -> files (`files.py`); `staleness.py` compares."""
