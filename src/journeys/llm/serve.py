"""Serve the packaged GGUF over llama.cpp's OpenAI-compatible HTTP server (xllamacpp).

    python -m journeys.llm.serve --port 8080 --threads 2

Binds 127.0.0.1 by default; prints the listening address on one line, then serves until it is
terminated (SIGTERM / Ctrl-C).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from journeys.errors import require


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m journeys.llm.serve")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--model", default=None, help="GGUF path (default: the packaged model)")
    args = ap.parse_args(argv)

    xl = require("xllamacpp", "llm")
    from journeys.llm.gguf import model_path
    from journeys.llm.local import server_params

    path = args.model or model_path()
    params = server_params(path, args.threads, args.ctx, port=args.port, host=args.host)
    server = xl.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
