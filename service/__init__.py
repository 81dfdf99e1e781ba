"""Document question answering with exact citations."""

from service import offline as _offline  # noqa: F401  (sets offline flags before any model library loads)
