"""Liaison: inbox automation for agency account managers.

The pipeline reads ingest -> parse -> classify -> link -> route -> respond -> summarise;
each stage lives in a module named for it.
"""

__version__ = "0.1.0"
