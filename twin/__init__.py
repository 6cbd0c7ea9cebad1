"""twin: a local-first personal AI twin that answers from your own diaries and notes."""

__version__ = "0.1.0"
