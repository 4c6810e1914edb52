"""Argument types shared by the subcommands (values as Snakemake formats them)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from w2v.config import boolean  # noqa: F401 - the subcommands' true/false type, defined with the train flags


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type that parses an integer >= `low`."""
    what = "a positive integer" if low == 1 else f"an integer >= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def optional_positive_int(text: str) -> int | None:
    """Parse an integer >= 1, or none/null (any case) for no limit."""
    if text.strip().lower() in ("none", "null", ""):
        return None
    return positive_int(text)
