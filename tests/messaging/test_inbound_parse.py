"""parse_email on real raw messages (tests/messaging/emails/*.eml): every field of each one, the
classification rules one header at a time, return dates in several languages, and never raising."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.inbound_parse import Bounce, ParsedEmail, parse_email
from messaging.inbound_reply_text import html_to_text, reply_text
from messaging.inbound_return_date import return_date_in

EMAILS = Path(__file__).parent / "emails"
UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))
EST = dt.timezone(dt.timedelta(hours=-5))
PST = dt.timezone(dt.timedelta(hours=-8))


def parsed(name: str) -> ParsedEmail:
    return parse_email((EMAILS / name).read_bytes())


def test_gmail_reply_keeps_only_the_new_text():
    assert parsed("gmail_reply.eml") == ParsedEmail(
        message_id="<CAJx3Lm9_5kQ2ZrN+8fVqXoP1u7yBtW0=Hx4gE@mail.gmail.com>",
        in_reply_to=["<touch-42@leadfollow.example>"],
        references=["<touch-41@leadfollow.example>", "<touch-42@leadfollow.example>"],
        from_address="mark.obrien@gmail.com",
        from_name="Mark O'Brien",
        to_addresses=["replies+2n-abcdefghijklmnop@leadfollow.example", "anna@obrien-family.example"],
        subject="Re: Your quote for the kitchen",
        sent_at=dt.datetime(2026, 12, 2, 10, 23, 31, tzinfo=CET),
        kind="reply",
        reply_text="Hi Sam,\n\nTuesday at 3 works for me. Can you send the address of the showroom?",
    )


def test_outlook_reply_cuts_the_from_sent_block_and_signature_but_keeps_a_list():
    assert parsed("outlook_reply.eml") == ParsedEmail(
        message_id="<AM6PR05MB6023C1D2E3F4A5B6C7D8E9F0A1B2C3D4@AM6PR05MB6023.eurprd05.prod.outlook.com>",
        in_reply_to=["<touch-77@leadfollow.example>"],
        references=["<touch-77@leadfollow.example>"],
        from_address="john.smith@acme-corp.example",
        from_name="Smith, John",
        to_addresses=["replies+2o-qrstuvwxyzabcdef@leadfollow.example"],
        subject="RE: Following up on your enquiry",
        sent_at=dt.datetime(2026, 12, 2, 9, 41, 5, tzinfo=UTC),
        kind="reply",
        reply_text="Yes please, call me tomorrow morning on my mobile.\n- before 11 is best\n- 07700 900123",
    )


def test_german_reply_decodes_rfc2047_and_cuts_am_schrieb():
    assert parsed("german_reply.eml") == ParsedEmail(
        message_id="<3f2a91c0-5b7e-4d1a-9c2e-7a1b0c9d8e7f@web.example>",
        in_reply_to=["<touch-108@leadfollow.example>"],
        references=["<touch-108@leadfollow.example>"],
        from_address="klaus.mueller@web.example",
        from_name="Klaus Müller",
        to_addresses=["replies+2p-ghijklmnopqrstuv@leadfollow.example"],
        subject="AW: Ihr Angebot für die Küche",
        sent_at=dt.datetime(2026, 12, 2, 11, 5, 12, tzinfo=CET),
        kind="reply",
        reply_text="Hallo Herr Rep,\n\ngerne am Donnerstag um 10 Uhr. Bitte rufen Sie mich im Büro an.",
    )


def test_html_only_reply_becomes_plain_text_without_tags_or_quoted_history():
    result = parsed("html_only_reply.eml")
    assert result == ParsedEmail(
        message_id="<20261202173000.7F3A2C0145@mail.shah-design.example>",
        in_reply_to=["<touch-120@leadfollow.example>"],
        references=[],
        from_address="priya@shah-design.example",
        from_name="Priya Shah",
        to_addresses=["replies+2q-wxyzabcdefghijkl@leadfollow.example"],
        subject="Re: Your quote for the kitchen",
        sent_at=dt.datetime(2026, 12, 2, 12, 30, tzinfo=EST),
        kind="reply",
        reply_text="Hi Sam,\n\nThanks & yes – Friday works.\nPlease bring the samples.",
    )
    assert "<" not in result.reply_text and "alert" not in result.reply_text


def test_exchange_out_of_office_with_auto_submitted_and_a_return_date():
    assert parsed("exchange_oof.eml") == ParsedEmail(
        message_id="<5a6b7c8d9e0f4a1b2c3d4e5f6a7b8c9d@EX01.contoso.example>",
        in_reply_to=["<touch-131@leadfollow.example>"],
        references=["<touch-131@leadfollow.example>"],
        from_address="dana.lee@contoso.example",
        from_name="Dana Lee",
        to_addresses=["replies+2r-mnopqrstuvwxyzab@leadfollow.example"],
        subject="Automatic reply: Following up on your enquiry",
        sent_at=dt.datetime(2026, 12, 2, 8, 0, 2, tzinfo=UTC),
        kind="auto_reply",
        reply_text=(
            "Thank you for your email. I am out of the office with limited access to email\n"
            "and will be back on Monday 14 December 2026.\n\n"
            "For urgent matters please contact reception@contoso.example."
        ),
        return_date=dt.date(2026, 12, 14),
    )


def test_gmail_vacation_responder_by_precedence_bulk_has_no_date():
    assert parsed("gmail_vacation.eml") == ParsedEmail(
        message_id="<CAMs7=vacation.1764670449@mail.gmail.example>",
        in_reply_to=["<touch-140@leadfollow.example>"],
        references=["<touch-140@leadfollow.example>"],
        from_address="lucy.park@gmail.example",
        from_name="Lucy Park",
        to_addresses=["replies+2s-cdefghijklmnopqr@leadfollow.example"],
        subject="Re: Your quote for the kitchen",
        sent_at=dt.datetime(2026, 12, 2, 2, 14, 9, tzinfo=PST),
        kind="auto_reply",
        reply_text="Hi! I'm travelling with patchy signal and will answer when I can.\nLucy",
        return_date=None,
    )


def test_french_out_of_office_known_by_its_subject_alone_and_its_year_less_date():
    assert parsed("french_oof_subject.eml") == ParsedEmail(
        message_id="<1764663300.918273.oof@orange.example>",
        in_reply_to=["<touch-150@leadfollow.example>"],
        references=[],
        from_address="amelie.dubois@orange.example",
        from_name="Amélie Dubois",
        to_addresses=["replies+2t-efghijklmnopqrst@leadfollow.example"],
        subject="Absence du bureau : Votre devis",
        sent_at=dt.datetime(2026, 12, 2, 9, 15, tzinfo=CET),
        kind="auto_reply",
        reply_text="Bonjour,\n\nJe suis absente jusqu'au 4 janvier. Je vous répondrai dès mon retour.\n\nAmélie",
        return_date=dt.date(2027, 1, 4),  # no year: the next 4 January after it was sent
    )


def test_postfix_rfc3464_hard_bounce_names_the_recipient_and_the_original_touch():
    result = parsed("postfix_dsn_511.eml")
    assert result == ParsedEmail(
        message_id="<20261202090211.4QyB7A1C2D@mx.leadfollow.example>",
        in_reply_to=[],
        references=[],
        from_address="mailer-daemon@mx.leadfollow.example",
        from_name="Mail Delivery System",
        to_addresses=["sales@leadfollow.example", "bounces@leadfollow.example"],
        subject="Undelivered Mail Returned to Sender",
        sent_at=dt.datetime(2026, 12, 2, 9, 2, 11, tzinfo=UTC),
        kind="bounce",
        reply_text=result.reply_text,
        bounce=Bounce(
            recipient="nobody@example-client.example",
            status="5.1.1",
            action="failed",
            diagnostic=(
                "550 5.1.1 <nobody@example-client.example>: Recipient address rejected: "
                "User unknown in virtual mailbox table"
            ),
            hard=True,
        ),
        original_message_id="<touch-205@leadfollow.example>",
    )
    assert result.reply_text.startswith("This is the mail system at host mx.leadfollow.example.")
    assert "Message-ID" not in result.reply_text  # the attached headers are not the daemon's text


def test_delayed_dsn_4_4_1_is_a_delay_not_a_bounce():
    result = parsed("delayed_dsn_441.eml")
    assert result == ParsedEmail(
        message_id="<20261202130215.8C1D2E3F4A@mx.leadfollow.example>",
        in_reply_to=[],
        references=[],
        from_address="mailer-daemon@mx.leadfollow.example",
        from_name="Mail Delivery System",
        to_addresses=["sales@leadfollow.example"],
        subject="Delayed Mail (still being retried)",
        sent_at=dt.datetime(2026, 12, 2, 13, 2, 15, tzinfo=UTC),
        kind="delay",
        reply_text=result.reply_text,
        bounce=Bounce(
            recipient="dana@slow-host.example",
            status="4.4.1",
            action="delayed",
            diagnostic="connect to mx.slow-host.example[203.0.113.9]:25: Connection timed out",
            hard=False,
        ),
        original_message_id="<touch-311@leadfollow.example>",
    )
    assert "THIS IS A WARNING ONLY" in result.reply_text


def test_qmail_bounce_without_a_report_is_hard_by_its_5_x_x_and_drops_the_returned_copy():
    assert parsed("qmail_bounce.eml") == ParsedEmail(
        message_id="<20261202101010.28514.qmail@mail.oldhost.example>",
        in_reply_to=[],
        references=[],
        from_address="mailer-daemon@mail.oldhost.example",
        from_name="",
        to_addresses=["sales@leadfollow.example"],
        subject="failure notice",
        sent_at=dt.datetime(2026, 12, 2, 10, 10, 10, tzinfo=UTC),
        kind="bounce",
        reply_text=(
            "Hi. This is the qmail-send program at mail.oldhost.example.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<Gone.Away@oldhost.example>:\n"
            "Sorry, no mailbox here by that name. (#5.1.1)"
        ),
        bounce=Bounce(
            recipient="gone.away@oldhost.example",
            status="5.1.1",
            action="failed",
            diagnostic="Sorry, no mailbox here by that name. (#5.1.1)",
            hard=True,
        ),
        original_message_id="<touch-402@leadfollow.example>",
    )


def test_a_message_without_message_id_has_an_empty_one():
    assert parsed("no_message_id.eml") == ParsedEmail(
        message_id="",
        from_address="bob@plainmail.example",
        to_addresses=["replies+2u-ijklmnopqrstuvwx@leadfollow.example"],
        subject="question",
        sent_at=dt.datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
        kind="reply",
        reply_text="Do you also do bathrooms?",
    )


def test_random_bytes_are_an_empty_reply():
    assert parsed("random_bytes.eml") == ParsedEmail(kind="reply")
    assert parse_email(b"") == ParsedEmail()


# The classification rules, one at a time

BASE = (
    "From: Ann Lead <ann@lead.example>\nTo: replies@leadfollow.example\nSubject: {subject}\n"
    "Date: Wed, 2 Dec 2026 10:00:00 +0000\nMessage-ID: <m1@lead.example>\n{extra}\nThanks, see you then.\n"
)


def kind_of(*, subject="Re: Your quote", extra="", sender=None):
    raw = BASE.format(subject=subject, extra=extra)
    if sender:
        raw = raw.replace("Ann Lead <ann@lead.example>", sender)
    return parse_email(raw.encode()).kind


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated; owner-email=ann@lead.example",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",
        "X-Auto-Response-Suppress: OOF",
        "Precedence: auto_reply",
        "Precedence: bulk",
        "Precedence: junk",
        "X-Precedence: bulk",
    ],
)
def test_auto_reply_headers(header):
    assert kind_of(extra=header + "\n") == "auto_reply"


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: no", "X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: DR, RN", "Precedence: list"],
)
def test_headers_that_do_not_make_an_auto_reply(header):
    assert kind_of(extra=header + "\n") == "reply"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your quote",
        "Automatic reply: Your quote",
        "Auto-Reply: Your quote",
        "Abwesenheitsnotiz: Ihr Angebot",
        "Automatische Antwort: Ihr Angebot",
        "Absence du bureau : Votre devis",
        "Réponse automatique : Votre devis",
        "Fuera de la oficina: Su presupuesto",
        "Respuesta automática: Su presupuesto",
        "Risposta automatica: Il suo preventivo",
        "Afwezig: Uw offerte",
        "Automatisch antwoord: Uw offerte",
        "Ausente: O seu orçamento",
        "Resposta automática: O seu orçamento",
    ],
)
def test_out_of_office_subjects(subject):
    assert kind_of(subject=subject) == "auto_reply"


def test_an_ordinary_subject_is_a_reply():
    assert kind_of(subject="Re: Office visit on Tuesday?") == "reply"


def test_a_mailer_daemon_notice_with_a_4_x_x_is_a_delay_and_without_a_code_is_automatic():
    daemon = "Mail Delivery Subsystem <mailer-daemon@googlemail.example>"
    raw = BASE.format(subject="Delivery Status Notification (Delay)", extra="").replace(
        "Thanks, see you then.", "Delivery to bob@slow.example delayed: 451 4.3.0 Temporary failure"
    )
    result = parse_email(raw.replace("Ann Lead <ann@lead.example>", daemon).encode())
    assert result.kind == "delay"
    assert result.bounce == Bounce(
        recipient="bob@slow.example",
        status="4.3.0",
        action="delayed",
        diagnostic="Delivery to bob@slow.example delayed: 451 4.3.0 Temporary failure",
        hard=False,
    )
    assert kind_of(subject="Notice", sender=daemon) == "auto_reply"


READ_RECEIPT = b"""From: Ann Lead <ann@lead.example>
To: sales@leadfollow.example
Subject: Read: Your quote
Date: Wed, 2 Dec 2026 10:00:00 +0000
Message-ID: <mdn-1@lead.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="r"

--r
Content-Type: text/plain

Your message was read on Wednesday.
--r
Content-Type: message/disposition-notification

Final-Recipient: rfc822; ann@lead.example
Original-Message-ID: <touch-9@leadfollow.example>
Disposition: manual-action/MDN-sent-manually; displayed
--r--
"""

GLOBAL_DSN = """From: postmaster@mx.example
To: sales@leadfollow.example
Subject: Undeliverable
Date: Wed, 2 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: text/plain

Could not deliver.
--r
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: utf-8; Jürgen@Example.de
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full
--r
Content-Type: message/rfc822

Message-ID: <touch-10@leadfollow.example>
Subject: Your quote

Hi
--r--
""".encode()  # message/global-delivery-status is UTF-8 (RFC 6533)


def test_a_read_receipt_is_automatic_not_a_reply():
    result = parse_email(READ_RECEIPT)
    assert (result.kind, result.bounce, result.original_message_id) == ("auto_reply", None, "")


def test_a_global_delivery_status_report_is_read_too():
    result = parse_email(GLOBAL_DSN)
    assert result.kind == "bounce"
    assert result.bounce == Bounce(
        recipient="jürgen@example.de", status="5.2.2", action="failed", diagnostic="552 5.2.2 Mailbox full", hard=True
    )
    assert result.original_message_id == "<touch-10@leadfollow.example>"


def test_a_person_quoting_a_status_code_is_still_a_reply():
    raw = BASE.format(subject="Re: bounce?", extra="").replace("Thanks, see you then.", "I got 550 5.1.1 from you")
    result = parse_email(raw.encode())
    assert (result.kind, result.bounce) == ("reply", None)


# Reply text and return dates in other languages

SENT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am away and back on 12 January.", dt.date(2027, 1, 12)),
        ("Out of the office until 2026-12-14, limited access to email.", dt.date(2026, 12, 14)),
        ("Travelling this week, returning Monday.", dt.date(2026, 12, 7)),
        ("Ich bin bis zum 18. Dezember nicht im Büro.", dt.date(2026, 12, 18)),
        ("Ab dem 7.1.2027 bin ich wieder im Büro am Montag, 11. Januar 2027.", dt.date(2027, 1, 11)),
        ("Je suis de retour le lundi 4 janvier.", dt.date(2027, 1, 4)),
        ("Estaré fuera de la oficina hasta el 7 de enero.", dt.date(2027, 1, 7)),
        ("Sarò fuori ufficio fino al 10 gennaio.", dt.date(2027, 1, 10)),
        ("Ik ben afwezig tot en met 15 december.", dt.date(2026, 12, 15)),
        ("Estarei ausente até 5 de janeiro.", dt.date(2027, 1, 5)),
        ("On parental leave until 1 September 2027.", dt.date(2027, 9, 1)),
        ("I was away until 1 December.", None),  # past, or a year-less date nearly a year ahead: stale
        ("I am out until further notice.", None),
        ("Back in January.", None),  # a month is not a day
        ("Out until 3 pm today.", None),
        ("Thanks for your message, I will reply soon.", None),
    ],
)
def test_return_dates(text, expected):
    assert return_date_in(text, sent_at=SENT) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Hola,\n\nsí, el jueves me va bien.\n\nEl mar, 1 dic 2026 a las 16:12, Sam Rep (<sam@x.example>) escribió:\n> Hola",
            "Hola,\n\nsí, el jueves me va bien.",
        ),
        (
            "Bonjour,\n\nd'accord pour jeudi.\n\nLe mar. 1 déc. 2026 à 16:12, Sam Rep <sam@x.example> a écrit :\n> Bonjour",
            "Bonjour,\n\nd'accord pour jeudi.",
        ),
        ("Sounds good.\n\n-----Original Message-----\nFrom: Sam\nSent: Tuesday\n\nHi", "Sounds good."),
        ("Call me Friday.\n\n> On the quote you sent\n> there was a typo", "Call me Friday."),
        ("Yes.\n\n-- \nAnn Lead\nCEO, Lead Inc.", "Yes."),
        ("Ok, Friday then.\n\nVon meinem iPhone gesendet", "Ok, Friday then."),
        ("Ok, Friday then.\n\nEnvoyé de mon iPhone\n\n> Bonjour", "Ok, Friday then."),
        ("Ok, Friday then.\n\nVerstuurd vanaf mijn iPhone", "Ok, Friday then."),
        ("Ok, Friday then.\nSent from my phone is how I usually write, so bear with me.", None),
    ],
)
def test_reply_text_in_other_languages_and_styles(body, expected):
    assert reply_text(body) == (body if expected is None else expected)


def test_a_very_long_line_is_kept_whole_and_the_history_after_it_still_cut():
    # The reply parser's patterns are quadratic in line length: long lines go past it as stand-ins.
    long_line = "word " * 4000
    body = f"Hi Sam,\n{long_line}\nSee you.\n\nOn Tue, Dec 1, 2026 at 4:12 PM Sam <sam@x.example> wrote:\n> old"
    assert reply_text(body) == f"Hi Sam,\n{long_line.strip()}\nSee you."


def test_a_blank_plain_part_gives_way_to_the_html_one():
    raw = (
        b"From: ann@lead.example\nSubject: Re: quote\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="a"\n\n'
        b"--a\nContent-Type: text/plain\n\n \n--a\nContent-Type: text/html\n\n<p>Yes, <b>Friday</b>.</p>\n--a--\n"
    )
    assert parse_email(raw).reply_text == "Yes, Friday."


def test_html_to_text_keeps_nested_divs_and_drops_the_gmail_quote():
    markup = (
        '<div dir="ltr"><div>One <i>two</i></div><div class="gmail_quote"><div>old</div>'
        "<div>older</div></div><p>P&eacute;tanque&nbsp;later</p></div>"
    )
    assert html_to_text(markup) == "One two\n\nPétanque later"


# Never raising

FIELDS_OF_TEXT = ("message_id", "from_address", "from_name", "subject", "reply_text", "original_message_id")


def assert_storable(result: ParsedEmail) -> None:
    assert result.kind in ("reply", "auto_reply", "bounce", "delay")
    for value in [getattr(result, name) for name in FIELDS_OF_TEXT] + result.to_addresses + result.references:
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogates: PostgreSQL takes it
    assert "\n" not in result.subject


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_parse_email_never_raises_on_arbitrary_bytes(raw):
    assert_storable(parse_email(raw))


HEADER_NAMES = [
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Content-Transfer-Encoding", "Auto-Submitted", "Precedence", "X-Auto-Response-Suppress", "X-Failed-Recipients",
]  # fmt: skip
header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "=?utf-8?q?bad=ff?=",
            "=?x-unknown?b?QUJD?=",
            "<a@b>",
            "<<>>@@,,",
            "multipart/report; report-type=delivery-status; boundary=b",
            "multipart/mixed; boundary=b",
            "text/html; charset=nonsense",
            "message/delivery-status",
            "base64",
            "quoted-printable",
            "Thu, 31 Feb 99999 25:61:61 +9999",
            "MAILER-DAEMON@x.example (Mail Delivery System)",
        ]
    ),
)
bodies = st.one_of(
    st.text(max_size=400),
    st.sampled_from(
        [
            "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x\nAction: failed\nStatus: 5.9.9\n--b--",
            "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <\n--b\nContent-Type: message/rfc822\n\n--b--",
            "<html><blockquote><div class=gmail_quote><<<</div>&#xffffffff;",
            "On Tue wrote:\n> x\n" * 20,
            "back on 99/99/9999 until 31 February returning Monday 0 of Smarch",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=12), bodies)
def test_parse_email_never_raises_on_email_shaped_garbage(headers, body):
    raw = "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + body
    assert_storable(parse_email(raw.encode("utf-8", "surrogatepass")))
