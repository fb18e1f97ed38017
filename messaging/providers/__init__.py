"""The providers LeadFollow sends through, one module each: `twilio_sms`, `smtp`, `outbox`.

A leaf: a provider takes a plain `base.OutgoingMessage`, calls the caller's `commit_point()` at its
commit point and returns a `base.ProviderResult`, or raises `base.TransportError`. It imports no
model and nothing of the apps; what it must store (the outbox) is handed to it as callables.
`messaging.transports` picks the provider per channel.
"""
