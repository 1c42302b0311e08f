"""Signals the vendors app sends; other apps connect to them (it imports none of theirs)."""

from django.dispatch import Signal

# sender=Vendor class, vendor=<Vendor>: a vendor's limits, pause or activity changed, so
# waiting jobs may now be admitted.
vendor_limits_changed = Signal()
# sender=Vendor class, vendor_id=<int>, vendor_slug=<str>: a vendor is being offboarded; receivers
# drop what they keep of it outside the database (Redis keys) and return the names removed.
vendor_offboarded = Signal()
