"""Fake providers on 127.0.0.1: the Twilio REST API (`twilio_api`) and an SMTP server
(`smtp_server`), in-process (tests) or as processes of their own (benchmarks, real workers)."""
