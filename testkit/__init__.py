"""What the tests and the benchmarks share: fake providers (`testkit.fakes`) that speak the real
protocols on 127.0.0.1, and the process harness (`testkit.processes`) that starts a worker, beat,
gunicorn or a fake as a child process. Product code never imports this package (nor `tests`)."""
