"""X-Request-ID: the caller's (if sane: at most 128 of [A-Za-z0-9._-]) or a fresh uuid4 hex, on
every log line of the request (processing/lib/logcontext.py), on the jobs it creates
(`Job.request_id`) and echoed in the response, so one id follows a request into the workers."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from processing.lib.logcontext import request_id_or_new, request_log_context

HEADER = "X-Request-ID"


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
        request_id = request_id_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        with request_log_context(request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response

    async def _acall(self, request):
        request_id = request_id_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        with request_log_context(request_id):
            response = await self.get_response(request)
        response[HEADER] = request_id
        return response
