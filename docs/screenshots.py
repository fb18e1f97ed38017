"""`make screenshots`: README's pictures, taken from the demo data in headless Chromium.

1. A fresh SQLite database in a temporary directory (LEADFOLLOW_VAR_DIR; DATABASE_URL and REDIS_URL
   are dropped, so nothing of yours is read or written), migrated and loaded with `seed_demo`.
2. The development server on a free port of 127.0.0.1 (no worker: nothing is sent).
3. Chromium (CHROMIUM_PATH, else /usr/bin/chromium, else Playwright's own) logs in as the demo rep
   and writes docs/screenshots/*.png: Today at 1366 and 390 px wide, call mode, a lead page and,
   when the Today row offers it (URL `today:appointment_new`), the appointment dialog.

Tooling, not product code: it prints one line per step and exits non-zero if any picture failed.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.processes import Process, free_port, http_status, wait_until  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "demo-password"  # leads/management/commands/seed_demo.py DEMO_PASSWORD
REP = "rep"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
DIALOG = "dialog[open], .modal.show, [role=dialog]:not([hidden])"


def step(message: str) -> None:
    print(f"screenshots: {message}", flush=True)


def environment(var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        LEADFOLLOW_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="leadfollow.settings",
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        # Mail goes to files in the temporary directory, never to a server.
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    return env


def manage(env: dict, *args: str) -> None:
    # Our own manage.py with fixed arguments.
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def chromium_path() -> str | None:
    """CHROMIUM_PATH, else /usr/bin/chromium; None lets Playwright use the browser it installed."""
    path = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    return path if shutil.which(path) or os.path.exists(path) else None


def demo_facts(env: dict) -> dict:
    """What the pictures need from the demo database: the rep's busiest lead and whether appointments exist."""
    os.environ.update(env)
    import django

    django.setup()
    from django.urls import NoReverseMatch, reverse

    from leads.models import Lead

    # An open lead with history and steps still to come says more than a closed one.
    running = Lead.objects.open().filter(owner__username=REP, enrollments__state="active")
    lead = running.order_by("-attempt_count", "pk").first() or Lead.objects.filter(owner__username=REP).first()
    try:
        reverse("today:appointment_new", args=[0])
        appointments = True
    except NoReverseMatch:
        try:
            reverse("today:appointment_new")
            appointments = True
        except NoReverseMatch:
            appointments = False
    return {"lead_url": reverse("leads:detail", args=[lead.pk]), "appointments": appointments}


def login(browser, base: str, viewport: dict, scale: int):
    context = browser.new_context(viewport=viewport, device_scale_factor=scale, is_mobile=viewport["width"] < 500)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", REP)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def shoot(page, base: str, path: str, name: str, *, full_page: bool = False) -> None:
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / name), full_page=full_page)
    step(f"wrote docs/screenshots/{name}")


def appointment_dialog(page, base: str) -> None:
    """ "Appointment set" on the first Today call row: only a button that loads the dialog (hx-get)
    is clicked, never one that would log the outcome; call mode's card when Today has none."""
    page.goto(base + "/today/")
    page.wait_for_load_state("networkidle")
    button = page.locator("[data-touch] [data-outcome=appointment][hx-get]").first
    if not button.count():
        step("note: no Today row opens the appointment dialog; taking it in call mode")
        page.goto(base + "/today/call/")
        page.wait_for_load_state("networkidle")
        button = page.locator("#call-card [data-outcome=appointment][hx-get]").first
    button.scroll_into_view_if_needed()
    button.click()
    dialog = page.locator(DIALOG).first
    dialog.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    dialog.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "appointment-dialog.png"))
    step("wrote docs/screenshots/appointment-dialog.png")


def take(base: str, facts: dict) -> list[str]:
    from playwright.sync_api import sync_playwright

    failed = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            context, page = login(browser, base, DESKTOP, 1)
            for path, name in (("/today/", "today-desktop.png"), (facts["lead_url"], "lead-page.png")):
                try:
                    shoot(page, base, path, name)
                except Exception as exc:
                    failed.append(f"{name}: {exc}")
            if facts["appointments"]:
                try:
                    appointment_dialog(page, base)
                except Exception as exc:
                    failed.append(f"appointment-dialog.png: {exc}")
            else:
                step("skipped appointment-dialog.png: no URL today:appointment_new yet")
            context.close()

            context, page = login(browser, base, PHONE, 2)
            for path, name, full in (("/today/", "today-phone.png", False), ("/today/call/", "call-mode.png", True)):
                try:
                    shoot(page, base, path, name, full_page=full)
                except Exception as exc:
                    failed.append(f"{name}: {exc}")
            context.close()
        finally:
            browser.close()
    return failed


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="leadfollow-screenshots-"))
    env = environment(var_dir)
    server = None
    try:
        step(f"fresh SQLite database in {var_dir}: migrating")
        manage(env, "migrate", "--noinput")
        step("loading the demo data (seed_demo)")
        manage(env, "seed_demo")
        facts = demo_facts(env)
        port = free_port()
        step(f"starting the development server on 127.0.0.1:{port}")
        server = Process(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            log_path=var_dir / "server.log",
        )
        server.start(ready=lambda: http_status(port) == 200, timeout=60)
        base = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        failed = take(base, facts)
        step(f"pictures taken in {time.monotonic() - started:.1f} s")
    except Exception as exc:
        failed = [str(exc)]
    finally:
        if server is not None:
            server.stop()
            wait_until(lambda: not server.running, timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)
    for problem in failed:
        step(f"FAILED {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
