"""The base of every API view: the vendor a request acts for, its request limits and headers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.views import APIView

from processing.api import limits
from processing.api.serializers import MAX_ID
from processing.api.vendor_context import VendorScopedMixin
from vendors import quotas


class DarkroomApiView(VendorScopedMixin, APIView):
    # Methods whose handler counts its own quotas (image requests, background removals, bulk
    # operations) once it knows what it will start; every other request counts as a read.
    self_charging_methods: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        try:
            self.perform_authentication(request)
        except AuthenticationFailed:
            limits.limit_anonymous(request)  # wrong tokens count, so guessing them is slow
            raise
        limits.limit_anonymous(request)
        super().initial(request, *args, **kwargs)
        if request.method.lower() not in self.self_charging_methods:
            limits.consume(request, vendor=self.vendor(request), charges={quotas.READ_REQUESTS: 1})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        limits.add_rate_limit_headers(request, response)
        return response


def parse_id(value) -> int | None:
    """A database id from a URL, or None (a 404) for anything that cannot be one."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def path_parameter(name: str, kind: str):
    """The OpenAPI description of an id in the path (the URL pattern itself takes any text)."""
    types = {"uuid": OpenApiTypes.UUID, "int": OpenApiTypes.INT}
    return OpenApiParameter(name, types[kind], OpenApiParameter.PATH)
