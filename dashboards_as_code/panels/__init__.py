"""Building dashboards: house-style panel helpers (`style.py`); grafanalib gaps (`grafanalib_ext.py`)."""
