"""hashigo: the ladder from a laptop to AWS/GCP for a Python web backend."""

__version__ = "0.1.0"
