"""A day's work through the rehearsal, over HTTPS as users reach it, then the faults. Each step
raises Failed with what a user would have seen; the findings go into the run's summary."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from skimage import data
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from scripts.rehearsal.stack import Rehearsal, wait_until

VENDOR, OWNER, OWNER_PASSWORD = "acme", "acme-owner", "rehearsal-owner-pw-7Qx"
OPERATOR, OPERATOR_PASSWORD = "admin", "rehearsal-operator-pw-3Kd"


class Failed(AssertionError):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


def photos(folder: Path, n: int, size: int) -> list[Path]:
    """Real photos (scikit-image's samples), cycled and resized, as JPEG files."""
    sources = [data.astronaut, data.chelsea, data.coffee]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        image = Image.fromarray(sources[i % 3]())
        image.thumbnail((size, size))
        path = folder / f"{sources[i % 3].__name__}-{i}.jpg"
        image.save(path, format="JPEG", quality=88)
        paths.append(path)
    return paths


def assert_cutout(png: bytes, name: str) -> None:
    image = Image.open(io.BytesIO(png))
    check(image.format == "PNG" and image.mode == "RGBA", f"{name} is not an RGBA PNG")
    alpha = np.asarray(image)[:, :, 3]
    check(alpha.min() == 0 and alpha.max() == 255, f"{name}: background not removed")


def watch(page, problems: list[str]) -> None:
    """Console errors and warnings (CSP violations are console errors), uncaught exceptions, and
    every answer of 400 or more but the favicon Chromium asks for by itself (Darkroom has none)."""

    def console(message) -> None:
        if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource"):
            problems.append(f"{message.type}: {message.text}")

    def response(answer) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            problems.append(f"{answer.status}: {answer.request.method} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", response)


class WebhookReceiver:
    """The integrator's endpoint: verifies every delivery with the standardwebhooks library."""

    def __init__(self, port: int):
        self.secret = ""
        self.deliveries: list[dict] = []
        self.unverified = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = dict(self.headers.items())
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    receiver.deliveries.append({"id": headers.get("webhook-id"), **payload})
                except WebhookVerificationError:
                    receiver.unverified += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def succeeded_jobs(self) -> Counter:
        """Job id -> distinct deliveries (webhook-id) of job.succeeded for it."""
        seen = {(d["data"]["id"], d["id"]) for d in self.deliveries if d["type"] == "job.succeeded"}
        return Counter(job for job, _ in seen)

    def close(self):
        self.httpd.shutdown()


class Day:
    def __init__(self, stack: Rehearsal, *, short: bool, hook_port: int, down_port: int):
        self.stack = stack
        self.short = short
        self.origin = stack.origin
        self.work = stack.run_dir / "work"
        self.work.mkdir(exist_ok=True)
        self.findings: dict = {}
        self.jobs: dict[str, str] = {}  # job id -> the step that made it
        self.token = ""
        self.batches: dict[str, str] = {}  # job id -> its batch
        self.seen: dict[str, dict] = {}  # job id -> the job as the API last showed it
        self.http = httpx.Client(verify=str(stack.cert), timeout=60, follow_redirects=False)
        self.receiver = WebhookReceiver(hook_port)
        self.down_port = down_port  # nothing listens there

    # --- accounts, as an operator makes them (`docker compose run --rm web python manage.py …`)
    def accounts(self) -> None:
        done = self.stack.run_once(
            "web",
            ["python", "manage.py", "create_vendor", VENDOR, "--user", OWNER, "--name", "Acme", "--plan", "premium"],
            env={"DARKROOM_USER_PASSWORD": OWNER_PASSWORD},
        )
        self.token = done.stdout.strip().splitlines()[-1]
        self.stack.run_once(
            "web",
            ["python", "manage.py", "ensure_operator", "--username", OPERATOR],
            env={"DARKROOM_OPERATOR_PASSWORD": OPERATOR_PASSWORD},
        )

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Token {self.token}", **kwargs.pop("headers", {})}
        answer = self.http.request(method, self.origin + path, headers=headers, **kwargs)
        check(answer.status_code < 500, f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
        return answer

    # --- the edges: TLS, redirects, headers, static files, probes, metrics
    def edges(self) -> None:
        plain = httpx.get(f"http://localhost:{self.stack.http_port}/accounts/login/?next=/", follow_redirects=False)
        check(plain.status_code == 301, f"plain HTTP answered {plain.status_code}")
        check(
            plain.headers["location"] == f"{self.origin}/accounts/login/?next=/",
            f"plain HTTP redirected to {plain.headers['location']}",
        )
        # Around the proxy (the web port straight, no X-Forwarded-Proto): the app itself sends
        # plain HTTP to HTTPS, but for the probes containers use.
        web = f"http://127.0.0.1:{self.stack.layout.services['web'].ports[8000]}"
        around = httpx.get(web + "/accounts/login/", headers={"Host": "localhost"})
        check(around.status_code == 301, f"plain HTTP around the proxy answered {around.status_code}")
        check(
            around.headers["location"].startswith("https://localhost/"), f"redirected to {around.headers['location']}"
        )
        probe = httpx.get(web + "/health/ready", headers={"Host": "localhost"})
        check(probe.status_code == 200, f"/health/ready over plain HTTP answered {probe.status_code}")
        login = self.http.get(self.origin + "/accounts/login/")
        check(login.status_code == 200, f"the sign-in page answered {login.status_code}")
        check("max-age=31536000" in login.headers.get("strict-transport-security", ""), "no HSTS header")
        check("content-security-policy" in login.headers, "no CSP header")
        statics = re.findall(r'(?:href|src)="(/static/[^"]+)"', login.text)
        check(statics, "the sign-in page links no static files")
        for path in statics:
            check(re.search(r"\.[0-9a-f]{12}\.\w+$", path), f"{path} is not a hashed name")
            answer = self.http.get(self.origin + path)
            check(answer.status_code == 200, f"{path} answered {answer.status_code}")
            check("immutable" in answer.headers.get("cache-control", ""), f"{path} is not cached for good")
        ready = self.http.get(self.origin + "/health/ready")
        check(ready.status_code == 200, f"/health/ready answered {ready.status_code}")
        report = self.http.get(self.origin + "/health/").json()
        check(report["status"] == "ok", f"/health/ says {report}")
        refused = self.http.get(self.origin + "/metrics")
        check(refused.status_code in (401, 403), f"/metrics without its token answered {refused.status_code}")
        token = self.stack.secrets["METRICS_TOKEN"]
        metrics = self.http.get(self.origin + "/metrics", headers={"Authorization": f"Bearer {token}"})
        check(metrics.status_code == 200, f"/metrics with its token answered {metrics.status_code}")
        check("darkroom_" in metrics.text, "/metrics has no darkroom_ series")
        self.findings["edges"] = {
            "static_files": len(statics),
            "metrics_bytes": len(metrics.text),
            "client_address": self.client_address_seen(),
        }

    def client_address_seen(self) -> str:
        """A wrong password from a client behind another proxy (X-Forwarded-For: 203.0.113.7):
        nginx appends its own peer, the app believes the header from nginx (FORWARDED_ALLOW_IPS)
        and the sign-in lockout counts the client's address, as the operator reads it in the admin."""
        client = httpx.Client(verify=str(self.stack.cert), timeout=30)
        page = client.get(self.origin + "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            self.origin + "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": OWNER, "password": "wrong"},
            headers={"Referer": self.origin + "/accounts/login/", "X-Forwarded-For": "203.0.113.7"},
        )
        check(answer.status_code == 200, f"a wrong password answered {answer.status_code}")
        seen = self.stack.run_once(
            "web",
            ["python", "manage.py", "shell", "-c",
             "from axes.models import AccessAttempt; print(AccessAttempt.objects.get().ip_address)"],
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        check(seen == "203.0.113.7", f"the sign-in lockout counted {seen} for a client at 203.0.113.7")
        self.stack.run_once(
            "web",
            [
                "python",
                "manage.py",
                "shell",
                "-c",
                "from axes.models import AccessAttempt as A; A.objects.all().delete()",
            ],
        )
        return seen

    # --- a vendor in the portal, in Chromium
    def portal(self, browser) -> None:
        problems: list[str] = []
        context = browser.new_context(ignore_https_errors=True, accept_downloads=True)
        page = context.new_page()
        watch(page, problems)
        page.goto(f"http://localhost:{self.stack.http_port}/")  # typed without https://
        check(page.url.startswith(self.origin + "/accounts/login/"), f"the portal opened at {page.url}")
        page.get_by_label("Username").fill(OWNER)
        page.get_by_label("Password").fill(OWNER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Acme").wait_for()
        cookies = {c["name"]: c for c in context.cookies()}
        for name in ("sessionid", "csrftoken"):
            check(name in cookies and cookies[name]["secure"], f"the {name} cookie is not Secure: {cookies.get(name)}")
        check(cookies["sessionid"]["httpOnly"], "the session cookie is readable by scripts")
        page.get_by_label("New project").fill("Catalogue")
        page.get_by_role("button", name="Create").click()
        page.get_by_role("heading", name="Catalogue").wait_for()
        page.wait_for_load_state("load")
        files = photos(self.work / "portal", 3, 480)
        page.set_input_files("#file-input", [str(p) for p in files])
        page.locator("#uploads li.done").nth(2).wait_for(timeout=60_000)
        page.get_by_label("Select all").check()
        check(page.get_by_label("Operation").input_value() == "remove_bg", "remove_bg is not the default operation")
        page.get_by_role("button", name="Start").click()
        page.locator(".toast", has_text="3 images queued").wait_for(timeout=30_000)
        page.locator(".toast", has_text="3 of 3 done, 0 failed").wait_for(timeout=240_000)
        with page.expect_download() as download:
            page.locator(".batch .zip").first.click()
        archive = self.work / "portal.zip"
        download.value.save_as(archive)
        with zipfile.ZipFile(archive) as zipped:
            names = sorted(zipped.namelist())
            check(len(names) == 3, f"the ZIP holds {names}")
            for name in names:
                assert_cutout(zipped.read(name), name)
        page.screenshot(path=str(self.work / "portal.png"), full_page=True)
        context.close()
        check(not problems, f"the portal's console: {problems}")
        self.findings["portal"] = {"zip": names}

    # --- an integrator: webhook endpoint, bulk job, its event stream
    def integrator(self) -> None:
        endpoint = self.api(
            "POST",
            "/api/v1/webhooks/",
            json={"url": f"http://127.0.0.1:{self.receiver.port}/hook"},
        )
        check(endpoint.status_code == 201, f"webhook creation answered {endpoint.status_code}: {endpoint.text}")
        self.receiver.secret = endpoint.json()["secret"]
        # A second endpoint whose receiver is down: its failed attempts are WARNING lines, no
        # traceback and no ERROR, until its retries are spent (long after this run).
        down = self.api("POST", "/api/v1/webhooks/", json={"url": f"http://127.0.0.1:{self.down_port}/hook"})
        check(down.status_code == 201, f"the second webhook's creation answered {down.status_code}")
        batch = self.bulk("integrator", n=4 if self.short else 20)
        events = self.stream(batch)
        check(events and events[-1][0] == "end", f"the stream ended with {events[-1:]}")
        check(any(kind == "batch" for kind, _ in events), "the stream carried no batch event")
        jobs = self.wait_finished(batch)
        wait_until(
            lambda: set(jobs) <= set(self.receiver.succeeded_jobs()), 120, "a job.succeeded webhook for every job"
        )
        wait_until(
            lambda: any(d["type"] == "batch.finished" and d["data"]["id"] == batch for d in self.receiver.deliveries),
            60,
            "the batch.finished webhook",
        )
        check(self.receiver.unverified == 0, f"{self.receiver.unverified} deliveries failed verification")
        endpoint_down = down.json()["id"]
        failed = wait_until(
            lambda: self.webhook_warnings(endpoint_down), 60, "the down endpoint's failed attempts in the log"
        )
        self.findings["integrator"] = {"jobs": len(jobs), "stream_events": len(events), "down_attempts": failed}
        self.integrator_batch = batch

    def webhook_warnings(self, endpoint: str | int) -> int:
        """worker-webhooks' WARNING lines for failed attempts to `endpoint`, none with a traceback."""
        found = 0
        for line in (self.stack.logs / "worker-webhooks.log").read_text(errors="replace").splitlines():
            if f"to endpoint {endpoint} of vendor" in line and "failed" in line:
                record = json.loads(line)
                check(record["levelname"] == "WARNING" and "exc_info" not in record, f"a failed attempt: {line}")
                found += 1
        return found

    def bulk(self, step: str, *, n: int, kind: str = "remove_bg", size: int | None = None) -> str:
        files = photos(self.work / step, n, size or (320 if self.short else 640))
        answer = self.api(
            "POST",
            "/api/v1/jobs/bulk/",
            data={"kind": kind},
            files=[("images", (p.name, p.read_bytes(), "image/jpeg")) for p in files],
        )
        check(answer.status_code == 202, f"the bulk request answered {answer.status_code}: {answer.text[:300]}")
        for job in answer.json()["jobs"]:
            self.jobs[job] = step
            self.batches[job] = answer.json()["batch"]
        return answer.json()["batch"]

    def stream(self, batch: str) -> list[tuple[str, dict]]:
        events, kind = [], None
        headers = {"Authorization": f"Token {self.token}", "Accept": "text/event-stream"}
        with self.http.stream(
            "GET", f"{self.origin}/api/v1/events/?batch={batch}", headers=headers, timeout=300
        ) as answer:
            check(answer.status_code == 200, f"the event stream answered {answer.status_code}")
            check(answer.headers["content-type"].startswith("text/event-stream"), "not an event stream")
            for line in answer.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    events.append((kind, json.loads(line[6:])))
                    if kind == "end":
                        break
        return events

    def wait_finished(self, batch: str, timeout: float = 300) -> list[str]:
        """The batch's jobs, once every one has finished, each as the API shows it."""

        def finished():
            body = self.api("GET", f"/api/v1/batches/{batch}/").json()
            return body["succeeded"] + body["failed"] + body["cancelled"] == body["total"]

        wait_until(finished, timeout, f"batch {batch} finished", interval=1)
        jobs = [job for job, step in self.jobs.items() if self.batches.get(job) == batch]
        for job in jobs:
            self.seen[job] = self.api("GET", f"/api/v1/jobs/{job}/").json()
        return jobs

    # --- the operator's dashboard, in Chromium
    def operator(self, browser) -> None:
        problems: list[str] = []
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        watch(page, problems)
        page.goto(self.origin + "/admin/")
        page.get_by_label("Username").fill(OPERATOR)
        page.get_by_label("Password").fill(OPERATOR_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("load")
        page.goto(self.origin + "/admin/queues/")
        page.locator("#dr-workers tbody tr").first.wait_for(timeout=30_000)
        workers = [s for s in self.stack.layout.app_services() if "rundramatiq" in s.command]
        wait_until(
            lambda: page.locator("#dr-workers tr.dr-alive").count() >= len(workers), 30, "every worker listed alive"
        )
        alive = page.locator("#dr-workers tr.dr-alive").count()
        page.screenshot(path=str(self.work / "admin-queues.png"), full_page=True)
        context.close()
        check(not problems, f"the admin's console: {problems}")
        self.findings["operator"] = {"workers_alive": alive, "worker_services": len(workers)}

    # --- retention on the scheduler's cron: an old finished job goes
    def age_a_job(self) -> str:
        job = next(j for j, step in self.jobs.items() if step == "integrator")
        self.stack.run_once(
            "web",
            [
                "python",
                "manage.py",
                "shell",
                "-c",
                "from datetime import timedelta; from django.utils import timezone; "
                "from processing.jobs.models import Job; "
                f"print(Job.objects.filter(pk='{job}').update(finished_at=timezone.now() - timedelta(days=3)))",
            ],
        )
        self.aged = job
        return job

    def retention_ran(self) -> None:
        wait_until(
            lambda: self.api("GET", f"/api/v1/jobs/{self.aged}/").status_code == 404,
            150,
            "retention (the scheduler's cron) removing the aged job",
            interval=2,
        )
        self.jobs.pop(self.aged)
        self.findings["retention"] = {"removed": self.aged}

    # --- faults
    def fault_rembg_killed(self) -> None:
        """`docker compose kill rembg-1`: its jobs go to the other two servers."""
        victim = self.stack.procs["rembg-1"]
        victim.kill()
        before = self.removals()
        batch = self.bulk("rembg-killed", n=4 if self.short else 12)
        jobs = self.wait_finished(batch)
        served = {name: n - before[name] for name, n in self.removals().items()}
        check(served["rembg-1"] == 0 and sum(served.values()) >= len(jobs), f"removals served: {served}")
        self.stack.start_service("rembg-1")
        wait_until(lambda: self.stack.healthy("rembg-1"), 120, "rembg-1 healthy again")
        self.findings["rembg_killed"] = {"jobs": len(jobs), "served": served}

    def removals(self) -> dict[str, int]:
        """Background removals each `rembg s` server answered, from its access log."""
        counts = {}
        for name in ("rembg-1", "rembg-2", "rembg-3"):
            text = (self.stack.logs / f"{name}.log").read_text(errors="replace")
            counts[name] = len(re.findall(r'"POST /api/remove HTTP/1.1" 200', text))
        return counts

    def fault_worker_killed(self) -> None:
        """worker-remove-bg's process killed from outside with jobs in hand: the supervisor starts
        it again (restart: unless-stopped) and the jobs it held run again, once."""
        proc = self.stack.procs["worker-remove-bg"]
        restarts = proc.restarts
        batch = self.bulk("worker-killed", n=6 if self.short else 12, size=1024)  # slower: caught in hand
        wait_until(lambda: self._running(batch), 120, "a job of the batch running", interval=0.3)
        pid = proc.crash()
        wait_until(lambda: proc.restarts > restarts and proc.pid and proc.pid != pid, 60, "the worker restarted")
        jobs = self.wait_finished(batch, timeout=400)
        self.findings["worker_killed"] = {
            "jobs": len(jobs),
            "restarts": proc.restarts - restarts,
            "ran_twice": sum(1 for j in jobs if self.seen[j]["attempts"] == 2),
        }

    def _running(self, batch: str) -> bool:
        return self.api("GET", f"/api/v1/batches/{batch}/").json()["running"] > 0

    def fault_redis_restarted(self) -> None:
        batch = self.bulk("redis-restarted", n=6 if self.short else 12)
        wait_until(lambda: self._running(batch), 120, "a job of the batch running", interval=0.3)
        self.stack.stop_redis()
        time.sleep(3)
        self.stack.start_redis()
        jobs = self.wait_finished(batch, timeout=400)
        self.findings["redis_restarted"] = {"jobs": len(jobs)}

    # --- what every job must have ended as
    def every_job_once(self) -> None:
        wait_until(lambda: all(self._finished(j) for j in self.jobs), 300, "every job finished", interval=2)
        states = Counter(self.seen[j]["state"] for j in self.jobs)
        attempts = Counter(self.seen[j]["attempts"] for j in self.jobs)
        check(states == Counter({"succeeded": len(self.jobs)}), f"jobs ended {dict(states)}")
        check(max(attempts) <= 2, f"attempts per job: {dict(attempts)}")
        # The portal's jobs finished before the integrator set up the webhook endpoint.
        hooked = [j for j, step in self.jobs.items() if step != "portal"]
        wait_until(
            lambda: set(hooked) <= set(self.receiver.succeeded_jobs()), 180, "a job.succeeded webhook for every job"
        )
        twice = {j: n for j, n in self.receiver.succeeded_jobs().items() if n > 1}
        check(not twice, f"jobs announced as succeeded more than once: {twice}")
        self.findings["jobs"] = {"total": len(self.jobs), "states": dict(states), "attempts": dict(attempts)}

    def _finished(self, job: str) -> bool:
        body = self.seen.get(job)
        if body is None or body["state"] not in ("succeeded", "failed", "cancelled"):
            answer = self.api("GET", f"/api/v1/jobs/{job}/")
            body = self.seen[job] = answer.json()
        return body["state"] in ("succeeded", "failed", "cancelled")


def portal_jobs_in(day: Day) -> None:
    """The portal's jobs join the count: the vendor's own API lists them."""
    for job in day.api("GET", "/api/v1/jobs/?kind=remove_bg").json()["results"]:
        if job["id"] not in day.jobs:
            day.jobs[job["id"]], day.batches[job["id"]], day.seen[job["id"]] = "portal", job["batch"], job


ERROR_LINE = re.compile(r'"levelname": "(ERROR|CRITICAL)"|\[(ERROR|CRITICAL)\]|^(ERROR|CRITICAL)\b')
TRACEBACK = re.compile(r"\bTraceback \(most")


def error_lines(logs: Path, since: dict[str, int] | None = None, *, tracebacks: bool = True) -> dict[str, list[str]]:
    """ERROR/CRITICAL lines of every service's log (and any line with a traceback, unless told
    not to), from byte offsets `since`."""
    found = defaultdict(list)
    for path in sorted(logs.glob("*.log")):
        with path.open("rb") as f:
            f.seek((since or {}).get(path.name, 0))
            for raw in f:
                line = raw.decode(errors="replace").rstrip()
                if ERROR_LINE.search(line) or (tracebacks and TRACEBACK.search(line)):
                    found[path.name].append(line[:400])
    return dict(found)


def log_offsets(logs: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in logs.glob("*.log")}


def server_errors(access_log: Path, since: int = 0) -> list[str]:
    """Requests nginx answered 5xx (its combined format: the status after the request line)."""
    if not access_log.exists():
        return []
    with access_log.open("rb") as f:
        f.seek(since)
        lines = f.read().decode(errors="replace").splitlines()
    return [line for line in lines if re.search(r'" 5\d\d ', line)]
