"""Argument types shared by the subcommands (values as Snakemake formats them)."""

from __future__ import annotations

import argparse


def boolean(text: str) -> bool:
    """Parse true/false (any case, also 1/0, yes/no), as `{params.settings[key]}` renders a bool."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def positive_int(text: str) -> int:
    """Parse an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def optional_positive_int(text: str) -> int | None:
    """Parse an integer >= 1, or none/null (any case) for no limit."""
    if text.strip().lower() in ("none", "null", ""):
        return None
    return positive_int(text)


def non_negative_int(text: str) -> int:
    """Parse an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value
