"""Run a fake as a process of its own: `python -m testkit.fakes.twilio_api` / `...smtp_server`."""

import signal
import threading


def serve_until_signal(server, *, address) -> int:
    """Start `server`, print "listening on <address>" (what a parent waits for), stop it on SIGTERM
    or SIGINT. `address` is called once the server is up (a port picked at start is known then)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(f"listening on {address()}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0
