"""Files to indexed, citable chunks."""

from service import offline as _offline  # noqa: F401
