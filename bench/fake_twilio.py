"""The fake Twilio API (tests/fakes/twilio_api.py) plus one endpoint for the benchmark:

    GET /_bench/arrivals   [[to, accepted_at], ...] where accepted_at is the wall-clock time (seconds)
                           at which the fake accepted the message (finer than date_created's seconds)

Run: `python -m bench.fake_twilio --port N` (prints "listening on ..." when ready).
"""

import argparse
import sys

from tests.fakes import twilio_api


class _BenchHandler(twilio_api._Handler):
    def do_GET(self):
        if self.path.startswith("/_bench/arrivals"):
            return self._send_json(200, [[m["to"], m["_created"]] for m in self.fake.messages()])
        return super().do_GET()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    api = twilio_api.FakeTwilioAPI("127.0.0.1", args.port)
    api._server.RequestHandlerClass = _BenchHandler
    return twilio_api.serve_until_signal(api)


if __name__ == "__main__":
    sys.exit(main())
