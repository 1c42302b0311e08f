"""The one way a front end turns a missing object into a 404."""

from typing import TypeVar

from django.http import Http404

T = TypeVar("T")


def found(value: T | None, what: str) -> T:
    """`value`, or Http404 ("<what> not found"). Reads are scoped by vendor, so another vendor's
    object is simply not found: nobody learns that it exists."""
    if value is None:
        raise Http404(f"{what} not found")
    return value
