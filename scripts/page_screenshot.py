"""Take docs/page.png: the web page for one user of a database, in Debian's chromium.

    python scripts/page_screenshot.py --db ~/.cache/journeys/serve-movielens-hashing-v6.db --user 147

The database is copied (a key is created in the copy); the server runs on a free 127.0.0.1 port."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from journeys.bench.serve import running_server
from journeys.services.keys import create_key
from journeys.store import open_store

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--out", default="docs/page.png")
    ap.add_argument("--embedder", default="hashing")
    ap.add_argument("--width", type=int, default=1360)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="journeys-shot-"))
    try:
        db = work / "j.db"
        with open_store(args.db) as src:
            src.conn.execute("VACUUM INTO ?", (str(db),))
        with open_store(db) as store:
            _, token = create_key(store, user_id=args.user, label="screenshot")
        env = {"JOURNEYS_EMBED__MODEL": args.embedder, "JOURNEYS_ADMIN_KEY": ""}
        with running_server(db, env) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(base + "/")
            page.get_by_label("API key", exact=True).fill(token)
            page.get_by_label("API key", exact=True).press("Enter")
            page.wait_for_selector("#cards .card")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=args.out, full_page=True)
            browser.close()
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
