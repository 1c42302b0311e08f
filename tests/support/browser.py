"""What every browser test shares: Debian's Chromium and how it is launched, the screen sizes its
pages open at, where screenshots go, and the steps a portal user takes before anything else.
The fixtures (chromium, page) are in tests/conftest.py."""

from tests.support.paths import ARTIFACTS

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "PHONE",
    "sign_in",
    "sign_in_and_create_project",
    "watch_console",
]

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, as root, with nothing reaching out to the (closed) network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Browser-context options: a laptop's screen, and a phone's.
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def sign_in(page, live_server) -> None:
    """Sign in to the portal as acme-owner; its dashboard is then shown."""
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("acme-owner")
    page.get_by_label("Password").fill("pw-acme-owner")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="acme").wait_for()


def sign_in_and_create_project(page, live_server, project: str) -> None:
    """Sign in to the portal as acme-owner and create `project`, whose page is then shown."""
    sign_in(page, live_server)
    page.get_by_label("New project").fill(project)
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name=project).wait_for()
    # portal.js is deferred: its handlers exist once the document has loaded, not when the
    # heading shows (with requests routed through Playwright the script arrives later).
    page.wait_for_load_state("load")


def watch_console(page, problems: list[str]) -> None:
    """Collect the page's console errors and uncaught exceptions into `problems`."""
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
