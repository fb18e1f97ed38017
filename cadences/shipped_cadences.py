"""The cadences LeadFollow ships besides the reference web cadence (loaded by a data migration).

- "Phone inquiry" (follow-up, for leads a rep took on the phone): the rep has just talked to the
  caller, so there is no "I'll call you" auto-responder and no call-within-5-minutes task. Day 0
  is a thank-you email at once with what was discussed (the lead's interest) and the rep's name;
  then Day 2 call, Day 4 email, Day 7 call + email, Day 14 email, Day 21 call, Day 28 email.
- "Long-term nurture — 6 months" (nurture): one value email a month for six months, started by
  the "Not interested → nurture" outcome; never picked for a new lead.
- "Text message inquiry" (follow-up, for a lead whose first word was a text from an unknown
  number): we know only the number, so the Day 0 reply neither repeats their text back (it may be
  anything) nor uses a name we don't have, and it promises a call only when someone owns the lead
  ({{ rep.first_name }} is empty for an unassigned one). Then calls and short texts over 3 weeks.
- "No-show follow-up" (no-show): a missed appointment restarts a short follow-up: a call and a
  "Sorry we missed you — pick a new time" email at once, Day 1 call, Day 3 email, Day 5 call.

Every touch gives the lead something (value, an insight, education or news), never "just
touching base". Merge fields are those of cadences.rendering. Loading is idempotent: a cadence
whose name exists already (shipped earlier, perhaps edited since) is left as it is.
"""

from dataclasses import dataclass, field

PHONE_INQUIRY = "Phone inquiry"
NURTURE = "Long-term nurture — 6 months"
NO_SHOW = "No-show follow-up"
SMS_INQUIRY = "Text message inquiry"


@dataclass(frozen=True)
class Step:
    day: int
    channel: str
    automated: bool
    send_hour: int | None  # None on Day 0: at once (cadences.scheduling)
    subject: str = ""
    body: str = ""
    talking_points: str = ""
    fresh_minutes: int | None = None  # None: cadences.sequence.fresh_for's default


@dataclass(frozen=True)
class ShippedCadence:
    name: str
    description: str
    kind: str
    steps: list[Step] = field(default_factory=list)
    intake_via: str = ""
    instant_response: bool = False


PHONE_STEPS = [
    Step(
        0,
        "email",
        True,
        None,
        "Thanks for the call, {{ lead.first_name }}",
        "Hi {{ lead.first_name }},\n\n"
        "Thanks for taking the time to talk with me today{% if lead.interest %} about {{ lead.interest }}{% endif %}. "
        "Here is a short recap, so you have it in writing:\n\n"
        "- What you are looking for: {{ lead.interest|default:'the points we discussed' }}\n"
        "- What happens next: I'll check the details we talked about and come back to you in a couple of days.\n"
        "- Your contact at {{ company }}: me, {{ rep.full_name }}"
        "{% if rep.phone %} ({{ rep.phone }}){% endif %}.\n\n"
        "If a question comes up after we hung up, just reply to this email: it comes straight to me.\n\n"
        "Best,\n{{ rep.first_name }}",
        "Sent right after the call: thanks them, recaps what they asked about, names the rep and how to "
        'reach them. No "I\'ll call you": you just did.',
        fresh_minutes=240,  # a recap still helps a few hours later, not the next day
    ),
    Step(
        2,
        "call",
        False,
        10,
        talking_points="Come back with something new from the first call: an answer to a question they asked, "
        "an option or price you checked, or a customer example that fits {{ lead.interest }}.\n"
        "- Confirm what matters most to them and whether there is a deadline.\n"
        "- Offer a concrete next step (demo, visit, quote) with two time options.\n"
        "No answer? Leave a 20-second voicemail with the one new thing you found.",
    ),
    Step(
        4,
        "email",
        True,
        10,
        "3 things worth checking before you decide",
        "Hi {{ lead.first_name }},\n\n"
        "After our call I wrote down the three questions that save people the most trouble when they look into "
        "{{ lead.interest|default:'a decision like this' }}:\n\n"
        "1. What does it cost in total over the first year, setup and support included?\n"
        "2. How long until it works for you, and who does that work?\n"
        "3. When something goes wrong, who answers, and how fast?\n\n"
        "I'm happy to answer all three for {{ company }} in writing, so you can compare us side by side with "
        "anyone else. Just reply.\n\n{{ rep.first_name }}",
        "Educate: a buyer's checklist that helps them even if they choose someone else.",
    ),
    Step(
        7,
        "call",
        False,
        10,
        talking_points="Bring an insight: one result a customer in a similar situation got, and ask how it "
        "compares with what they need.\n"
        "- Ask what has changed since your first call and who else has a say in the decision.\n"
        "- Ask for the appointment.\n"
        "No answer? Voicemail: mention the customer example and that it is in your email.",
    ),
    Step(
        7,
        "email",
        True,
        11,
        "How a customer in your shoes got started",
        "Hi {{ lead.first_name }},\n\n"
        "When we spoke you mentioned {{ lead.interest|default:'what you are looking for' }}. A customer of ours "
        "started from the same place a few months ago. What made the difference for them:\n\n"
        "- they started small, with the one problem that cost them the most time;\n"
        "- they had one named contact for the first weeks (for you, that's me);\n"
        "- they saw the first results within two weeks, then decided on the rest.\n\n"
        "Would a 20-minute call to map out that first step for you be useful? Reply with a time that suits you"
        "{% if rep.phone %}, or call me on {{ rep.phone }}{% endif %}.\n\n{{ rep.first_name }}",
        "Value: a concrete customer story tied to what they told you on the phone.",
    ),
    Step(
        14,
        "email",
        True,
        10,
        "What's new at {{ company }} this month",
        "Hi {{ lead.first_name }},\n\n"
        "A quick update you may find useful: this month we shipped a few improvements our customers asked for, "
        "and some of them bear directly on {{ lead.interest|default:'what we discussed' }}.\n\n"
        "If you like, I can show you in ten minutes what they would mean for you; nothing to prepare on your side.\n\n"
        "{{ rep.first_name }}",
        "News: an update, event or offer that matters to them.",
    ),
    Step(
        21,
        "call",
        False,
        10,
        talking_points="Call with a reason: refer to the news email and ask what has changed on their side.\n"
        "- An objection? Handle it: a 'no' now is often a 'not yet'.\n"
        "- Wrong timing? Agree when to come back to them and note it.\n"
        "Never close before five real attempts.",
    ),
    Step(
        28,
        "email",
        True,
        10,
        "Should I keep you posted, {{ lead.first_name }}?",
        "Hi {{ lead.first_name }},\n\n"
        "I don't want to crowd your inbox. Since our call about {{ lead.interest|default:'your inquiry' }} "
        "I've sent you a checklist, a customer story and our latest news. If the timing isn't right, that is "
        "completely fine.\n\n"
        "Would you like a short, useful note once a month instead? A one-word reply is perfect.\n\n"
        "Thanks,\n{{ rep.first_name }}",
        "Close the loop politely; ask permission to nurture.",
    ),
]

NURTURE_STEPS = [
    Step(
        30,
        "email",
        True,
        10,
        "A checklist you can use, whoever you choose",
        "Hi {{ lead.first_name }},\n\n"
        "When the time comes to decide on {{ lead.interest|default:'this' }}, these five checks make the choice "
        "easier, whoever you go with:\n\n"
        "1. Write down the one result that would make it worth it.\n"
        "2. Ask for the total cost over a year, not just the price.\n"
        "3. Ask who helps you in the first month, by name.\n"
        "4. Ask to talk to a customer who has used it for a year.\n"
        "5. Agree how you will know, after 30 days, that it works.\n\n"
        "Keep it for later. When you're ready, I'm one reply away.\n\n{{ rep.first_name }}",
        "Month 1, education: a checklist that helps even if they never buy from us.",
    ),
    Step(
        60,
        "email",
        True,
        10,
        "What customers learn in their first 90 days",
        "Hi {{ lead.first_name }},\n\n"
        "We asked customers what they wish they had known before they started. The three answers we hear most:\n\n"
        "- start with one team or one site, not everything at once;\n"
        "- pick one number to watch, and look at it every week;\n"
        "- the setup takes less time than they feared; getting everyone to use it takes more.\n\n"
        "If any of this is on your mind for {{ lead.interest|default:'your plans' }}, reply and I'll share how "
        "others handled it.\n\n{{ rep.first_name }}",
        "Month 2, insight: lessons from real customers.",
    ),
    Step(
        90,
        "email",
        True,
        10,
        "News from {{ company }}",
        "Hi {{ lead.first_name }},\n\n"
        "A short round-up of what is new at {{ company }} this quarter: improvements customers asked for, and "
        "a few changes that make getting started quicker.\n\n"
        "If your plans around {{ lead.interest|default:'this' }} have moved on, I'd be glad to show you what "
        "changed in ten minutes.\n\n{{ rep.first_name }}",
        "Month 3, news: what changed since they last heard from us.",
    ),
    Step(
        120,
        "email",
        True,
        10,
        "The most common mistake (and how to avoid it)",
        "Hi {{ lead.first_name }},\n\n"
        "The mistake we see most often is choosing on price alone, then paying for it in time: weeks of setup, "
        "nobody to call, features nobody uses.\n\n"
        "The fix is simple: before you choose, ask each supplier to show you the first week, step by step. "
        "If they can't, that tells you something.\n\n"
        "Happy to show you ours whenever it suits you.\n\n{{ rep.first_name }}",
        "Month 4, education: a mistake to avoid, useful whoever they choose.",
    ),
    Step(
        150,
        "email",
        True,
        10,
        "From first call to results: a customer story",
        "Hi {{ lead.first_name }},\n\n"
        "Here is a short story from a customer who was where you are: they looked around for months, picked one "
        "problem to solve first, and had it working within a few weeks. The biggest win, they told us, was the "
        "time they got back.\n\n"
        "If that sounds like what you want for {{ lead.interest|default:'your team' }}, reply and I'll tell you "
        "how they went about it.\n\n{{ rep.first_name }}",
        "Month 5, a story: show what getting started looks like.",
    ),
    Step(
        180,
        "email",
        True,
        10,
        "Is now a better time, {{ lead.first_name }}?",
        "Hi {{ lead.first_name }},\n\n"
        "It has been about six months since you asked us about {{ lead.interest|default:'our services' }}. "
        "Plans change, so I'm asking rather than guessing: is now a better time to talk?\n\n"
        "If it is, reply with a time and I'll call you. If not, no problem: this is the last of these monthly "
        "notes.\n\n{{ rep.first_name }}",
        "Month 6: ask directly whether the timing is better now; the nurture ends here.",
    ),
]

NO_SHOW_STEPS = [
    Step(
        0,
        "call",
        False,
        None,
        talking_points="They missed the appointment: call now, friendly, no guilt.\n"
        '- "We had a time booked today and I wanted to make sure everything is all right."\n'
        "- Offer two new times and book one on the call.\n"
        "- Ask whether the time of day was the problem, or whether someone else should join.\n"
        "No answer? A short voicemail with the two times; the email with the same offer goes next.",
    ),
    Step(
        0,
        "email",
        True,
        None,
        "Sorry we missed you — pick a new time",
        "Hi {{ lead.first_name }},\n\n"
        "Sorry we missed each other today. Things come up, no problem at all.\n\n"
        "I'd still like to show you what we can do for {{ lead.interest|default:'you' }}. Reply with a day and "
        "time that suit you better (early, late, whatever works) and I'll confirm it right away"
        "{% if rep.phone %}, or call me on {{ rep.phone }}{% endif %}.\n\n"
        "Talk soon,\n{{ rep.first_name }}",
        "Sent after the rep's call: a new time, made easy.",
        # It goes once the rep has made the call, which may take a few hours: still useful the same day.
        fresh_minutes=1440,
    ),
    Step(
        1,
        "call",
        False,
        10,
        talking_points="Second try, with value: name one thing they will see in the appointment that fits "
        "what they asked about ({{ lead.interest }}).\n"
        "- Offer two times and book one.\n"
        "No answer? A short voicemail, no pressure: the invitation stands.",
    ),
    Step(
        3,
        "email",
        True,
        10,
        "What you'd see in 20 minutes",
        "Hi {{ lead.first_name }},\n\n"
        "In case it helps you decide whether to rebook, here is what the 20 minutes would cover:\n\n"
        "1. Your situation today and the one result you want from {{ lead.interest|default:'this' }}.\n"
        "2. How customers like you got there, with real numbers.\n"
        '3. A clear next step, or an honest "this isn\'t for you".\n\n'
        "Reply with a time that suits you and I'll send an invitation.\n\n{{ rep.first_name }}",
        "Value: what the appointment gives them, so rebooking is worth their time.",
    ),
    Step(
        5,
        "call",
        False,
        10,
        talking_points="Last call of the no-show follow-up: ask directly whether they still want to look at "
        "this and, if not now, when.\n"
        "- Book the appointment, or agree a date to come back, or move them to nurture.\n"
        "Every call counts toward the five attempts.",
    ),
]

SMS_STEPS = [
    Step(
        0,
        "sms",
        True,
        None,
        body="Thanks for your message to {{ company }}! "
        "{% if rep.first_name %}This is {{ rep.first_name }}: I'll call you shortly. If now is a bad time, "
        "reply with a better one.{% else %}We'll get back to you shortly.{% endif %} Reply STOP to opt out.",
        talking_points="Automatic reply to a text from a new number. It never repeats their text and never "
        "promises a call nobody owns.",
        fresh_minutes=60,  # an answer to a text is only an answer while the conversation is warm
    ),
    Step(
        0,
        "call",
        False,
        None,
        talking_points="They texted first: call now, say you got their message and ask how you can help.\n"
        "- Ask for their name and email, and what they are looking for.\n"
        "- No answer? Text them back a short question instead of leaving a long voicemail.",
    ),
    Step(
        1,
        "call",
        False,
        10,
        talking_points="Second attempt: refer to their text and offer one concrete next step (a quote, a visit, "
        "a 15-minute call).",
    ),
    Step(
        3,
        "sms",
        True,
        11,
        body="Hi, {{ rep.first_name|default:'the team' }} from {{ company }} here. Happy to answer your question "
        "by text if that is easier: what would help you most right now? Reply STOP to opt out.",
        talking_points="Education by text: invite the question in the channel they chose.",
    ),
    Step(
        7,
        "call",
        False,
        10,
        talking_points="Bring something useful: a customer example or a price range for what they asked about.",
    ),
    Step(
        14,
        "sms",
        True,
        11,
        body="{{ company }}: a quick note in case it helps, most people who text us start with a free 15-minute "
        "call to see what fits. Reply with a time that suits you. Reply STOP to opt out.",
        talking_points="Value: make the next step small and easy.",
    ),
    Step(
        21,
        "call",
        False,
        10,
        talking_points="Last call of this cadence: ask whether they still want help and, if not now, when. "
        "Never close before five real attempts.",
    ),
]

SHIPPED = [
    ShippedCadence(
        name=PHONE_INQUIRY,
        description="For leads a rep took on the phone: a thank-you email with what was discussed at once, "
        "then calls and value emails over 4 weeks. No auto-responder and no 5-minute call task.",
        kind="follow_up",
        intake_via="phone",
        # Its only Day 0 step "at once" is the thank-you email (reactions.cadence explains).
        instant_response=True,
        steps=PHONE_STEPS,
    ),
    ShippedCadence(
        name=NURTURE,
        description="For leads who are not ready now: one useful email a month for six months.",
        kind="nurture",
        steps=NURTURE_STEPS,
    ),
    ShippedCadence(
        name=SMS_INQUIRY,
        description="For a lead whose first word was a text from a new number: an answer by text at once "
        "(no echo of their text, a call promised only when someone owns the lead), a call task, then calls and "
        "short texts over 3 weeks.",
        kind="follow_up",
        intake_via="sms",
        instant_response=True,
        steps=SMS_STEPS,
    ),
    ShippedCadence(
        name=NO_SHOW,
        description="After a missed appointment: a call and a new-time email at once, then two calls and an "
        "email over five days.",
        kind="no_show",
        instant_response=True,
        steps=NO_SHOW_STEPS,
    ),
]


def load(apps) -> None:
    """Create each shipped cadence and its steps if no cadence has its name yet (data migration, tests)."""
    Cadence = apps.get_model("cadences", "Cadence")
    CadenceStep = apps.get_model("cadences", "CadenceStep")
    for shipped in SHIPPED:
        if Cadence.objects.filter(name=shipped.name).exists():
            continue
        cadence = Cadence.objects.create(
            name=shipped.name,
            description=shipped.description,
            kind=shipped.kind,
            intake_via=shipped.intake_via,
            instant_response=shipped.instant_response,
            active=True,
            is_default=False,
        )
        positions: dict[int, int] = {}
        for step in shipped.steps:
            position = positions.get(step.day, 0)
            positions[step.day] = position + 1
            CadenceStep.objects.create(
                cadence=cadence,
                day=step.day,
                position=position,
                channel=step.channel,
                automated=step.automated,
                send_hour=step.send_hour,
                subject=step.subject,
                body=step.body,
                talking_points=step.talking_points,
                fresh_minutes=step.fresh_minutes,
            )
