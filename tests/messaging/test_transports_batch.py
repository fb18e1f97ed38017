"""A batch of emails shares one SMTP session; the commit point stays per message."""

from messaging import transports


def email(n):
    return transports.OutgoingMessage(
        channel="email", to=f"lead{n}@example.org", subject=f"Hi {n}", body="Body", message_id=f"<batch-{n}@test>"
    )


def test_a_batch_uses_one_smtp_session(smtp_server):
    with transports.batch():
        for n in range(3):
            transports.send(email(n), commit_point=lambda: True)
    assert len(smtp_server.messages()) == 3
    assert smtp_server.session_count() == 1


def test_without_a_batch_each_send_has_its_own_session(smtp_server):
    for n in range(2):
        transports.send(email(n), commit_point=lambda: True)
    assert smtp_server.session_count() == 2


def test_a_lost_claim_inside_a_batch_delivers_nothing_and_the_next_send_reconnects(smtp_server):
    with transports.batch():
        try:
            transports.send(email(0), commit_point=lambda: False)
        except transports.TransportError as exc:
            assert exc.code == "claim_lost"
        transports.send(email(1), commit_point=lambda: True)
    assert [m["Message-ID"] for m in smtp_server.messages()] == ["<batch-1@test>"]


def test_smtp_sessions_disable_nagle(smtp_server):
    """The final "." must not wait for a delayed ACK (about 40 ms a message)."""
    import socket

    from django.core.mail import get_connection

    backend = get_connection("messaging.providers.smtp.TwoPhaseSMTPBackend")
    assert backend.open()
    try:
        assert backend.connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        backend.close()
