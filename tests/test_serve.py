"""`esmlab serve`: the screen in a real headless Chromium, one lab per session."""

import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esmlab.lab import Lab
from esmlab.serve import session_lab
from esmlab.starter import build_starter
from waiting import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _clock(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key='now_ms'").fetchone()[0])
    finally:
        conn.close()


def _starter(path: Path) -> Path:
    lab = Lab.create(path)
    build_starter(lab)
    lab.close()
    return path


def test_each_session_gets_its_own_copy_of_the_lab(tmp_path):
    source = _starter(tmp_path / "class.db")
    Lab.open(source).save_snapshot("start")
    a = session_lab(tmp_path / "sessions", str(source), None, None)
    b = session_lab(tmp_path / "sessions", str(source), "start", None)
    assert a != b and a.parent == b.parent == tmp_path / "sessions"
    lab_a = Lab.open(a)
    lab_a.advance(60)
    lab_a.close()
    assert _clock(a) > _clock(b) == _clock(source)   # one session's clock is its own


def test_a_session_can_start_from_a_lesson(tmp_path):
    path = session_lab(tmp_path, None, None, "sqs-dlq-redrive")
    lab = Lab.open(path)
    assert "orders-dlq" in lab.engine.queues.names()


def test_serve_refuses_a_missing_lab_with_a_sentence(tmp_path, capsys):
    from esmlab.cli import main
    assert main(["serve", "--lab", str(tmp_path / "none.db")]) == 2
    assert "no lab at" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_a_key_pressed_in_the_browser_steps_the_session_lab(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    source = _starter(tmp_path / "class.db")
    sessions = tmp_path / "sessions"
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "esmlab", "serve", "--lab", str(source), "--port", str(port),
         "--sessions", str(sessions)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_until("esmlab serve listening", listening, timeout=30, every=0.25)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{port}/")
            lab = wait_until("the session's lab", lambda: next(iter(sessions.glob("session-*.db")), None),
                             timeout=60, every=0.25)
            start = _clock(lab)
            # The terminal takes keys through xterm's hidden textarea. Until
            # the screen is up a key press finds no app, so press n (step;
            # F5 would reload the page) until the session's clock moves.
            terminal = page.locator(".xterm-helper-textarea")
            terminal.wait_for(state="attached", timeout=60_000)
            deadline = time.monotonic() + 90
            while _clock(lab) == start:
                assert time.monotonic() < deadline, "no key press reached the lab"
                terminal.focus()
                before = page.screenshot()
                page.keyboard.press("n")
                time.sleep(1.5)
            assert page.screenshot() != before   # the screen changed with the clock
            assert _clock(source) == start       # the teacher's lab is untouched
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
