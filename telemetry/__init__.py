"""The telemetry contract: the single source of metric, label and log names (see `contract.py`)."""
