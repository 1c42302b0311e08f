"""The signed-in user's API keys in the portal: list by prefix, make, rotate, revoke. A new key
is shown in the answer to the POST that made it (never stored, never put in a message cookie).
The vendor's owners also see every key of its members, and can revoke them all at once."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from processing.lib.errors import ProcessingError
from processing.lib.found import found
from processing.portal.vendor_context import render_portal, vendor_view
from vendors import selectors, services
from vendors.models import Membership


def _is_owner(request, vendor) -> bool:
    return selectors.membership_role(vendor=vendor, user=request.user) == Membership.Role.OWNER


def _page(request, *, vendor, new_key: str = "", new_token=None, status: int = 200):
    context = {
        "tokens": selectors.api_token_list(user=request.user),
        "vendor_tokens": selectors.vendor_api_token_list(vendor=vendor) if _is_owner(request, vendor) else None,
        "new_key": new_key,
        "new_token": new_token,
    }
    return render_portal(request, "portal/tokens.html", context, status=status)


@require_GET
@vendor_view
def token_list(request, *, vendor):
    return _page(request, vendor=vendor)


@require_POST
@vendor_view
def token_create(request, *, vendor):
    name = (request.POST.get("name") or "default").strip()[:100] or "default"
    try:
        token, key = services.api_token_create(user=request.user, name=name)
    except ProcessingError as exc:
        messages.error(request, exc.message)
        return redirect("portal:tokens")
    return _page(request, vendor=vendor, new_key=key, new_token=token, status=201)


@require_POST
@vendor_view
def token_rotate(request, pk, *, vendor):
    token = found(selectors.api_token_get(user=request.user, token_id=pk), "token")
    token, key = services.api_token_rotate(token=token)
    return _page(request, vendor=vendor, new_key=key, new_token=token)


@require_POST
@vendor_view
def token_revoke(request, pk, *, vendor):
    token = found(selectors.api_token_get(user=request.user, token_id=pk), "token")
    services.api_token_revoke(token=token)
    messages.info(request, f"API key {token.prefix}… revoked.")
    return redirect("portal:tokens")


@require_POST
@vendor_view
def vendor_tokens_revoke_all(request, *, vendor):
    """Every key of the vendor's members stops working at once (a leak); owners only."""
    if not _is_owner(request, vendor):
        raise PermissionDenied("only the vendor's owners revoke its members' keys")
    revoked = services.vendor_api_tokens_revoke(vendor=vendor)
    messages.info(request, f"{revoked} API key{'s' if revoked != 1 else ''} of {vendor.name} revoked.")
    return redirect("portal:tokens")
