"""docker-compose.yml and the Dockerfile name only things that exist in this project: commands,
modules, settings, queues, ports. No Docker engine runs here; the files are read and checked."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import dramatiq
import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.urls import resolve
from django.utils.module_loading import import_string

from tests.support.paths import ROOT

INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*)|:\?(?P<required>[^}]*))?\}")
REQUIRED_SAMPLE = "s3cret-from-dotenv"
OUR_IMAGE = "darkroom:latest"


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default}, with the defaults (what a fresh checkout runs with); a
    required ${NAME:?message} (a secret from .env) as a sample value."""

    def default(match: re.Match) -> str:
        if match["required"] is not None:
            return REQUIRED_SAMPLE
        assert match["default"] is not None, f"${{{match['name']}}} has no default"
        return match["default"]

    return INTERPOLATION.sub(default, value)


@cache
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def ours() -> dict[str, dict]:
    """The services that run this project's image."""
    return {name: s for name, s in services().items() if s.get("image") == OUR_IMAGE or "build" in s}


def argv(service: dict) -> list[str]:
    command = service.get("command", [])
    words = shlex.split(command) if isinstance(command, str) else list(command)
    return [interpolate(word) for word in words]


def command_lines(words: list[str]) -> list[list[str]]:
    """One argv per program: `sh -c "a && b"` runs two."""
    if words[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in words[2].split("&&")]
    return [words]


def environment(service: dict) -> dict[str, str]:
    return {name: interpolate(str(value)) for name, value in (service.get("environment") or {}).items()}


@cache
def settings_sources() -> str:
    return "\n".join(path.read_text() for path in (ROOT / "config" / "settings").rglob("*.py"))


def read_by_settings(name: str) -> bool:
    # env.<type>("NAME", …), or per_kind("NAME", …) for the kind=value,… settings.
    return re.search(rf"""(env(\.\w+)?|per_kind)\(\s*["']{re.escape(name)}["']""", settings_sources()) is not None


def parse_management_command(words: list[str]):
    """`python manage.py NAME ARGS…`: the command exists and accepts the arguments."""
    assert words[:2] == ["python", "manage.py"], words
    name, args = words[2], words[3:]
    commands = get_commands()
    assert name in commands, f"no management command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    return name, vars(parser.parse_args(args))


def declared_queues() -> set[str]:
    import processing.engine.tasks  # noqa: F401  (declares every actor's queue)

    return set(dramatiq.get_broker().get_declared_queues())


def production_queues() -> set[str]:
    """Every declared queue but those of the test-only kinds the test settings add."""
    from processing.jobs.kinds import PROCESSORS

    test_kinds = {
        import_string(f"{path}.PROCESSOR").kind for path in settings.DARKROOM_PROCESSORS if path.startswith("tests.")
    }
    test_queues = {PROCESSORS[kind].queue for kind in test_kinds}
    broker = dramatiq.get_broker()
    declared_queues()
    return {a.queue_name for a in broker.actors.values() if not a.fn.__module__.startswith("tests.")} - test_queues


def worker_queues() -> dict[str, tuple[list[str], int]]:
    """Per worker service: (queues, threads × processes)."""
    workers = {}
    for name, service in ours().items():
        words = argv(service)
        if words[2:3] == ["rundramatiq"]:
            _, options = parse_management_command(words)
            workers[name] = (options["queues"] or [], int(options["threads"]) * int(options["processes"]))
    return workers


def listening_port(service: dict) -> int | None:
    words = argv(service)
    if words[:1] == ["gunicorn"]:
        return int(words[words.index("-b") + 1].rsplit(":", 1)[1])
    if words[:2] == ["rembg", "s"]:
        return int(words[words.index("--port") + 1])
    if words[2:3] == ["rundramatiq"]:
        return int(environment(service)["DRAMATIQ_PROMETHEUS_PORT"])
    return None


def test_every_service_has_a_healthcheck_and_depends_only_on_services_that_exist():
    for name, service in services().items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        for target, condition in (service.get("depends_on") or {}).items():
            assert target in services(), f"{name} depends on unknown service {target}"
            assert condition["condition"] in ("service_healthy", "service_completed_successfully", "service_started")
            if condition["condition"] == "service_completed_successfully":
                assert services()[target].get("restart") == "no", f"{target} must be a one-shot"


def test_every_command_of_our_image_exists_and_accepts_its_arguments():
    from rembg.commands.s_command import s_command

    seen = set()
    for name, service in ours().items():
        for words in command_lines(argv(service)):
            program = words[0]
            seen.add(program if program != "python" else words[2])
            if program == "python":
                parse_management_command(words)
            elif program == "gunicorn":
                module, _, attribute = words[1].partition(":")
                assert importlib.util.find_spec(module), f"{name}: no module {module}"
                assert attribute == "application"
                import_string(words[words.index("-k") + 1])  # the worker class
            elif program == "rembg":
                assert words[1] == "s"
                s_command.make_context("s", words[2:])  # raises on an unknown option
            else:
                pytest.fail(f"{name} runs {program}, which this test does not know how to check")
    assert {"gunicorn", "rundramatiq", "runscheduler", "migrate", "fetch_models", "rembg"} <= seen


def test_every_variable_set_for_our_image_is_read_by_the_settings():
    for name, service in ours().items():
        for variable, value in environment(service).items():
            if variable == "DJANGO_SETTINGS_MODULE":  # read by Django itself
                assert importlib.util.find_spec(value), f"{name}: no settings module {value}"
                continue
            assert read_by_settings(variable), f"{name} sets {variable}, which config/settings never reads"


def test_every_compose_knob_is_listed_in_env_example():
    listed = set(re.findall(r"^#?\s*(\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    knobs = set(INTERPOLATION.findall((ROOT / "docker-compose.yml").read_text()))
    missing = {name for name, *_ in knobs} - listed
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_queue_is_consumed_and_every_consumed_queue_exists():
    declared = declared_queues()
    consumed = {queue for queues, _ in worker_queues().values() for queue in queues}
    assert consumed <= declared, f"unknown queues: {consumed - declared}"
    unconsumed = production_queues() - consumed
    assert unconsumed == set(), f"no worker consumes {unconsumed}"
    assert {"webhooks", "maintenance", "remove_bg", "face_crop", "transform"} <= consumed


def test_a_dedicated_queue_gets_as_many_jobs_at_once_as_its_worker_has_threads():
    capacity = dict(entry.split("=") for entry in environment(services()["web"])["JOB_QUEUE_CAPACITY"].split(","))
    # Webhook deliveries are not jobs: admission (JOB_QUEUE_CAPACITY) does not hand them out.
    job_workers = {name: (q, t) for name, (q, t) in worker_queues().items() if q != ["webhooks"]}
    for name, (queues, threads) in job_workers.items():
        if len(queues) == 1:
            assert int(capacity[queues[0]]) == threads, f"{name}: JOB_QUEUE_CAPACITY {queues[0]} != {threads} threads"
    defaults = {queues[0]: threads for queues, threads in job_workers.values() if len(queues) == 1}
    assert defaults == {"remove_bg": 3, "face_crop": 3, "transform": 5}


def test_health_checks_call_what_the_service_serves():
    for name, service in services().items():
        test = [interpolate(word) for word in service["healthcheck"]["test"][1:]]
        if test[0] == "curl":
            url = urlparse(next(word for word in test if word.startswith("http")))
            assert url.hostname == "127.0.0.1"
            assert url.port == listening_port(service), f"{name} checks port {url.port}"
            if argv(service)[:1] == ["gunicorn"]:
                resolve(url.path)  # a Django URL
        elif test[:2] == ["python", "manage.py"]:
            parse_management_command(test)
        else:
            assert name in ("mysql", "redis"), f"{name}: unexpected health check {test}"


def test_the_web_port_is_published_and_rembg_urls_point_at_rembg_services():
    web = services()["web"]
    published = [interpolate(port) for port in web["ports"]]
    assert [p.rsplit(":", 1)[1] for p in published] == [str(listening_port(web))]
    for url in environment(web)["REMBG_URLS"].split(","):
        parsed = urlparse(url)
        assert parsed.hostname in services(), f"REMBG_URLS names {parsed.hostname}, not a service"
        assert parsed.port == listening_port(services()[parsed.hostname])


def test_the_dockerfile_installs_files_and_runs_commands_that_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for requirement in re.findall(r"-r (requirements/\S+)", dockerfile):
        assert (ROOT / requirement).is_file(), requirement
    for name in re.findall(r"python manage.py (\w+)", dockerfile):
        assert name in get_commands(), f"the Dockerfile runs unknown command {name}"
    assert "fetch_models" in dockerfile, "models are fetched at build time"
    cmd = re.search(r'^CMD \["gunicorn", "(?P<app>[\w.]+):application"', dockerfile, re.MULTILINE)
    assert cmd and importlib.util.find_spec(cmd["app"])
    worker_class = re.search(r'^CMD \[.*"-k", "(?P<worker>[\w.]+)"', dockerfile, re.MULTILINE)["worker"]
    import_string(worker_class)
    settings_module = re.search(r"DJANGO_SETTINGS_MODULE=(\S+)", dockerfile)[1]
    assert importlib.util.find_spec(settings_module), settings_module


def check_compose_spec(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with the compose specification's schema that it ships (no network)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    result = check_compose_spec(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The schema is strict enough to matter: a misspelt depends_on condition is refused.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("service_healthy", "service_ready"))
    assert check_compose_spec(broken).returncode == 1


def test_every_long_running_service_is_restarted_when_it_dies():
    """Dramatiq's parent exits when its worker process dies; the container must come back by
    itself (and so must the web, the scheduler and the data services). Only one-shots do not."""
    for name, service in services().items():
        if service.get("restart") == "no":
            continue
        assert service.get("restart") == "unless-stopped", f"{name} is not restarted when it dies"
    workers = [name for name, s in services().items() if "rundramatiq" in s.get("command", [])]
    assert workers and all(services()[name]["restart"] == "unless-stopped" for name in workers)


def test_compose_secrets_are_required_not_defaulted():
    """A fresh checkout's `docker compose up` stops until the secrets are set in .env, rather
    than starting a database with a known password."""
    text = (ROOT / "docker-compose.yml").read_text()
    required = {m["name"] for m in INTERPOLATION.finditer(text) if m["required"] is not None}
    assert {"MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "DJANGO_SECRET_KEY", "METRICS_TOKEN"} <= required
    defaulted = {m["name"] for m in INTERPOLATION.finditer(text) if m["default"] is not None}
    assert not {name for name in defaulted if re.search("PASSWORD|SECRET|TOKEN", name)}


def test_the_web_server_and_the_limits_trust_the_same_proxies():
    """One setting for the client address behind the proxy (issue 22, point 3): gunicorn and
    uvicorn read FORWARDED_ALLOW_IPS from the environment, the settings read it as TRUSTED_PROXIES
    for the anonymous limit and sign-in lockouts."""
    web = services()["web"]
    assert "FORWARDED_ALLOW_IPS" in environment(web)
    assert "--forwarded-allow-ips" not in argv(web), "a second list on the command line could disagree"
    assert re.search(r"""TRUSTED_PROXIES = env\.list\(\s*["']FORWARDED_ALLOW_IPS["']""", settings_sources())
    assert settings.RATELIMIT_IP_META_KEY == settings.AXES_CLIENT_IP_CALLABLE == "vendors.quotas.client_ip"
