"""Digest: news feeds in, Q&A briefings out (e-mail, PDF, text, JSON, an archive)."""

__version__ = "0.1.0"
