"""Real HTTP servers on 127.0.0.1, in a thread, for the outbound-HTTP tests (URL inputs, AI
endpoints, webhooks receivers): route by path, remember every request."""

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A route answers (status, headers, body) for the request it is given.
Route = Callable[["Request"], tuple[int, dict[str, str], bytes]]


class Request:
    def __init__(self, method: str, path: str, headers, body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body


class ServedOnLoopback:
    """A request handler class served on 127.0.0.1 in a thread, from entering the block to its end;
    the port is bound at once."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackServer(ServedOnLoopback):
    """A real HTTP server on 127.0.0.1 in a thread; routes by path; remembers every request."""

    def __init__(self, routes: dict[str, Route], port: int = 0):
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                request = Request(self.command, self.path, self.headers, self.rfile.read(length))
                server.requests.append(request)
                route = server.routes.get(self.path.split("?")[0])
                status, headers, body = route(request) if route else (404, {}, b"no such route")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        super().__init__(Handler, port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)
