"""What the engine does when another app tells it something changed."""

from processing.jobs.wakeup import request_admission


def on_vendor_limits_changed(sender, vendor, **kwargs) -> None:
    request_admission()
