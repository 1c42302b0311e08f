from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class StrictPageSize:
    """A page_size outside 1..MAX_PAGE_SIZE is a 400, as the schema says, not silently another size."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not (given.isascii() and given.isdigit() and 1 <= int(given) <= self.max_page_size):
            raise ValidationError({"page_size": f"an integer from 1 to {self.max_page_size}"})
        return int(given)


class Pagination(StrictPageSize, PageNumberPagination):
    """A page number is an integer from 1, as the schema says (a 400 otherwise, not DRF's "last");
    a page past the end is a 404."""

    def get_page_number(self, request, paginator):
        given = request.query_params.get(self.page_query_param)
        if given is None:
            return 1
        if not (given.isascii() and given.isdigit() and int(given) >= 1):
            raise ValidationError({self.page_query_param: "an integer from 1"})
        return int(given)


class NewestFirstCursorPagination(StrictPageSize, CursorPagination):
    """Newest first, by an opaque cursor: a page is one index range scan, never a COUNT(*) or an
    OFFSET over a million rows. The same `next`/`previous` URLs are in the body and, per RFC 8288,
    in the `Link` header."""

    ordering = ("-created_at", "-id")

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        neighbours = (("next", self.get_next_link()), ("prev", self.get_previous_link()))
        links = [f'<{url}>; rel="{rel}"' for rel, url in neighbours if url]
        if links:
            response["Link"] = ", ".join(links)
        return response


def paginated(view, request, rows, serializer_class) -> Response:
    """One page of `rows` by the view's pagination class, serialized."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)


PAGE_SIZE_PARAMETER = OpenApiParameter(
    "page_size",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    OpenApiParameter.QUERY,
    description=f"Rows per page, default {PAGE_SIZE}.",
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, OpenApiParameter.QUERY, description="From 1."),
    PAGE_SIZE_PARAMETER,
]
CURSOR_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Opaque: take it from `next`/`previous` or the Link header. An unknown cursor is a 404.",
    ),
    PAGE_SIZE_PARAMETER,
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description='RFC 8288 links to the neighbouring pages: `<url>; rel="next"`, `<url>; rel="prev"`, '
        "when they exist.",
    ),
]
