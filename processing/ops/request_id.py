"""X-Request-ID: the caller's (if sane: at most 128 of [A-Za-z0-9._-]) or a fresh uuid4 hex, on
every log line of the request (processing/lib/logcontext.py), on the jobs it creates
(`Job.request_id`) and echoed in the response, so one id follows a request into the workers."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.signals import request_finished

from processing.lib.logcontext import request_id_begin, request_id_end, request_id_or_new

HEADER = "X-Request-ID"


def _begin(request) -> str:
    request.request_id = request_id_or_new(request.headers.get(HEADER))
    request_id_begin(request.request_id)
    return request.request_id


def _end(**kwargs) -> None:
    # Sent when the server closes the response, after Django's own 4xx/5xx line for it.
    request_id_end()


request_finished.connect(_end, dispatch_uid="darkroom.request_id_end")


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        request_id = _begin(request)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response

    async def _acall(self, request):
        request_id = _begin(request)
        response = await self.get_response(request)
        response[HEADER] = request_id
        return response
