"""Helpers for the browser tests: a real `journeys serve` on a free 127.0.0.1 port (the bench's
own launcher), and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from journeys.bench.serve import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SRC = Path(__file__).resolve().parents[2] / "src"


def server(db: Path, rate: float = 0):
    env = {"JOURNEYS_EMBED__MODEL": "hashing", "JOURNEYS_ADMIN_KEY": "",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return running_server(db, env, rate=rate)


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
