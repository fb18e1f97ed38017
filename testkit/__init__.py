"""What the tests and the benchmarks share: fake providers (`testkit.fakes`) that speak the real
protocols on 127.0.0.1. Product code never imports this package (nor `tests`)."""
