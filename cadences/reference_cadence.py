"""The reference cadence shipped with LeadFollow (loaded by a data migration).

Day 0 is the lead's arrival: an immediate, personal auto-responder by email and SMS and a call
task due at once. Then Day 1 call + email, Day 2 email + Twitter, Day 3 Twitter, Day 5 email +
LinkedIn, Day 7 email, Day 10 call + email, Day 17 email + Twitter, Day 21 LinkedIn, Day 28
call + email. Every touch gives the lead something: value, an insight, education or news —
never "just touching base".
"""

NAME = "Web lead — 28 days"

# (day, channel, automated, send_hour, subject, body, talking points)
STEPS = [
    (
        0,
        "email",
        True,
        None,
        "{{ lead.first_name }}, thanks for reaching out to {{ company }}",
        "Hi {{ lead.first_name }},\n\n"
        "Thanks for getting in touch{% if lead.interest %} about {{ lead.interest }}{% endif %}. "
        "I'm {{ rep.first_name }}, and I'll be your contact here at {{ company }}.\n\n"
        "I'm going to call you shortly. If now is a bad time, just reply with a better time and I'll work around you.\n\n"
        "Talk soon,\n{{ rep.first_name }}",
        "Automatic reply sent the moment the lead arrives: personal, names the rep, promises a call.",
    ),
    (
        0,
        "sms",
        True,
        None,
        "",
        "Hi {{ lead.first_name }}, this is {{ rep.first_name }} at {{ company }}. Thanks for your inquiry"
        "{% if lead.interest %} about {{ lead.interest }}{% endif %}! I'll call you in a few minutes. Reply STOP to opt out.",
        "Automatic text on arrival, inside the lead's contact hours.",
    ),
    (
        0,
        "call",
        False,
        None,
        "",
        "",
        "Call within 5 minutes: the first company to respond wins about half the deals.\n"
        "- Thank them and confirm why they reached out ({{ lead.interest }}).\n"
        "- Ask two discovery questions: what prompted the inquiry now, and what a great outcome looks like.\n"
        "- Offer a concrete next step (demo, test drive, quote) with two time options.\n"
        "No answer? Leave a 20-second voicemail that mentions one specific benefit, and say you'll email.",
    ),
    (
        1,
        "call",
        False,
        10,
        "",
        "",
        "Re-emphasize the business value: connect their interest to one result a similar customer got.\n"
        "Ask for the appointment. If voicemail: mention the email you are sending with that example.",
    ),
    (
        1,
        "email",
        True,
        11,
        "How a customer like you got started",
        "Hi {{ lead.first_name }},\n\n"
        "You asked about {{ lead.interest|default:'what we do' }}. One of our customers had the same question last month; "
        "within two weeks they had it running and told us the biggest win was the time they got back.\n\n"
        "Would a 15-minute call this week help you see whether it fits? Reply with a time that suits you.\n\n"
        "{{ rep.first_name }}",
        "Value: a concrete customer result tied to their interest.",
    ),
    (
        2,
        "email",
        True,
        10,
        "3 questions to ask before you decide",
        "Hi {{ lead.first_name }},\n\n"
        "Whoever you end up choosing, these three questions save people the most trouble:\n"
        "1. What does it cost in total over the first year, not just up front?\n"
        "2. Who helps you when something goes wrong, and how fast?\n"
        "3. Can you talk to a customer who has used it for a year?\n\n"
        "Happy to answer all three for {{ company }} — just reply.\n\n{{ rep.first_name }}",
        "Educate: a buyer's checklist that helps even if they don't buy from us.",
    ),
    (
        2,
        "twitter",
        False,
        12,
        "",
        "",
        "Follow the lead on Twitter/X and engage genuinely with something they posted (like or reply). "
        "Share an insight, never a pitch.",
    ),
    (
        3,
        "twitter",
        False,
        12,
        "",
        "",
        "Share a useful article or customer story that relates to their interest and mention them if appropriate.",
    ),
    (
        5,
        "email",
        True,
        10,
        "An idea for you, {{ lead.first_name }}",
        "Hi {{ lead.first_name }},\n\n"
        "I noticed many people looking into {{ lead.interest|default:'this' }} start by solving the smallest problem first. "
        "Here's an idea: let's pick the one thing that would make the biggest difference this month and I'll show you "
        "exactly how we'd do it — no obligation.\n\n{{ rep.first_name }}",
        "Offer an insight: a specific idea for their situation.",
    ),
    (
        5,
        "linkedin",
        False,
        11,
        "",
        "",
        "Send a LinkedIn connection request with a personal note: reference their inquiry and one insight "
        "relevant to their role or company.",
    ),
    (
        7,
        "email",
        True,
        10,
        "What's new at {{ company }}",
        "Hi {{ lead.first_name }},\n\n"
        "Quick news: we've just made a few changes that customers asked for, and I thought of you because of "
        "your interest in {{ lead.interest|default:'what we offer' }}. I'd be glad to walk you through what it means for you.\n\n"
        "{{ rep.first_name }}",
        "Share news: a product update, event or offer that matters to them.",
    ),
    (
        10,
        "call",
        False,
        10,
        "",
        "",
        "Check in with a reason: refer to the news email and ask what's changed on their side since they inquired.\n"
        "Handle the objection if there is one — 80% of sales need 5 to 12 follow-ups; a 'no' now is often a 'not yet'.",
    ),
    (
        10,
        "email",
        True,
        11,
        "Still the right time?",
        "Hi {{ lead.first_name }},\n\n"
        "I tried to reach you by phone today. If the timing isn't right, that's completely fine — tell me when to "
        "come back to you and I'll make a note. If it is, here's my direct line: {{ rep.phone|default:'reply to this email' }}.\n\n"
        "{{ rep.first_name }}",
        "Respect their time; make it easy to say 'later' instead of going silent.",
    ),
    (
        17,
        "email",
        True,
        10,
        "A customer story you might like",
        "Hi {{ lead.first_name }},\n\n"
        "Here's a short story from a customer who was in a similar spot: what they tried first, what didn't work, "
        "and what finally did. If it sounds familiar, I'd love to hear how you're approaching it.\n\n{{ rep.first_name }}",
        "Educate with a story; invite a reply.",
    ),
    (
        17,
        "twitter",
        False,
        12,
        "",
        "",
        "Engage with a recent post of theirs or share relevant news with a mention.",
    ),
    (
        21,
        "linkedin",
        False,
        11,
        "",
        "",
        "Message on LinkedIn: share an insight or article relevant to their industry; ask one open question.",
    ),
    (
        28,
        "call",
        False,
        10,
        "",
        "",
        "Last call of the cadence. Summarize the value, ask directly whether to keep them informed, "
        "and set the lead to nurturing if not now. Never close before five real attempts.",
    ),
    (
        28,
        "email",
        True,
        11,
        "Should I keep you posted?",
        "Hi {{ lead.first_name }},\n\n"
        "I don't want to crowd your inbox. Would you like me to keep you posted on news about "
        "{{ lead.interest|default:'what we do' }} every now and then? A one-word reply is perfect.\n\n"
        "Thanks,\n{{ rep.first_name }}",
        "Close the loop politely; ask permission to nurture.",
    ),
]


def load(apps) -> None:
    """Create the reference cadence and its steps if missing (used by the data migration)."""
    Cadence = apps.get_model("cadences", "Cadence")
    CadenceStep = apps.get_model("cadences", "CadenceStep")
    if Cadence.objects.filter(name=NAME).exists():
        return
    cadence = Cadence.objects.create(
        name=NAME,
        description="The default follow-up for web leads: instant response, then 9 days of touches over 4 weeks "
        "across calls, email, Twitter and LinkedIn.",
        is_default=not Cadence.objects.filter(is_default=True).exists(),
        active=True,
    )
    positions: dict[int, int] = {}
    for day, channel, automated, hour, subject, body, points in STEPS:
        position = positions.get(day, 0)
        positions[day] = position + 1
        CadenceStep.objects.create(
            cadence=cadence,
            day=day,
            position=position,
            channel=channel,
            automated=automated,
            send_hour=hour,
            subject=subject,
            body=body,
            talking_points=points,
        )
