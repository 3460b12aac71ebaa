"""How the talk coaches say numbers: short, and as a person would say them."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """'minute', '2 minutes', '45 seconds': for 'in the last ...'."""
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds:.0f} seconds"


def times(count: int) -> str:
    """'once', 'twice', '3 times'."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")
