"""Demo data for `make run`: two teams, five users, three lead sources and a few dozen leads.

Idempotent: users, teams and sources are looked up by name, leads by phone number, so running
it twice leaves the same data. Demo only: every password is "demo-password" and the Website
source's API key is fixed and documented in the README.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from cadences.models import Outcome, Touch, TouchStatus
from leads.models import Contact, Lead, LeadEvent, LeadSource, LeadStatus
from leads.phones import phone_normalize
from leads.services.api_keys import lead_source_issue_api_key
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change
from reactions.outcomes import touch_complete

DEMO_PASSWORD = "demo-password"
DEMO_API_KEY = "lf_demo.website-demo-key"

# username: (first name, last name, role, team, manages, phone)
USERS = {
    "admin": ("Ada", "Quinn", Role.ADMIN, None, None, ""),
    "manager": ("Maya", "Brooks", Role.MANAGER, None, "North", "+1 212 234 7100"),
    "rep": ("Ryan", "Carter", Role.REP, "North", None, "+1 212 234 7101"),
    "rep2": ("Priya", "Shah", Role.REP, "North", None, "+1 212 234 7102"),
    "rep3": ("Luis", "Ortega", Role.REP, "South", None, "+1 713 234 7103"),
}

# name: (team, cost per lead)
SOURCES = {
    "Website": ("North", Decimal("40.00")),
    "Referral": ("North", Decimal("0.00")),
    "Trade show": ("South", Decimal("120.00")),
}

# Customers the reps call for referrals: (first, last, company, phone, email, owner, days since last call)
CUSTOMERS = [
    ("Helen", "Whitaker", "Whitaker Dental", "+1 212 389 4410", "helen@whitakerdental.com", "rep", None),
    ("Marcus", "Bell", "Bell & Sons Plumbing", "+1 312 374 2281", "marcus@bellplumbing.com", "rep2", 45),
    ("Grace", "Kim", "Kim Architecture", "+1 415 297 6650", "grace@kimarch.studio", "rep", 12),
    ("Tom", "Reyes", "Reyes Logistics", "+1 713 248 9902", "tom@reyeslogistics.com", "rep3", None),
]


@dataclass(frozen=True)
class DemoLead:
    first_name: str
    last_name: str
    company: str
    phone: str
    email: str
    interest: str
    how_heard: str
    source: str
    days_ago: float
    status: str = LeadStatus.NEW
    referred_by: str = ""  # a customer's last name


LEADS = [
    DemoLead(
        "Dana",
        "Mitchell",
        "Mitchell Realty",
        "+1 212 285 3301",
        "dana@mitchellrealty.com",
        "Test drive of the new model for our agents",
        "Google search",
        "Website",
        0.05,
    ),
    DemoLead(
        "Kevin",
        "O'Brien",
        "Harbor Freight Co.",
        "+1 617 292 4417",
        "",
        "Pricing for 20 seats",
        "LinkedIn ad",
        "Website",
        0.4,
    ),
    DemoLead(
        "Sofia",
        "Alvarez",
        "Alvarez Catering",
        "+1 305 274 8812",
        "sofia@alvarezcatering.com",
        "Wants a demo before the holiday season",
        "Friend",
        "Website",
        0.9,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Brian",
        "Nguyen",
        "",
        "+1 415 263 1198",
        "brian.nguyen@gmail.com",
        "Question about financing options",
        "Google search",
        "Website",
        1.2,
    ),
    DemoLead(
        "Olivia",
        "Hart",
        "Hart & Co. Law",
        "+1 312 248 5530",
        "ohart@hartlaw.com",
        "Pricing for 20 seats, annual billing",
        "Podcast",
        "Website",
        1.6,
        LeadStatus.APPOINTMENT,
    ),
    DemoLead(
        "Jamal",
        "Washington",
        "Washington Fitness",
        "+1 404 239 7781",
        "",
        "Test drive of the new model",
        "Drove by the showroom",
        "Website",
        2.1,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Emily",
        "Chen",
        "Chen Pediatrics",
        "+1 206 283 4402",
        "emily@chenpeds.org",
        "Needs online booking for 3 clinics",
        "Google search",
        "Website",
        2.8,
    ),
    DemoLead(
        "Robert",
        "Fischer",
        "Fischer Auto Body",
        "+1 602 291 6627",
        "",
        "Replacing their current CRM, 8 users",
        "Capterra",
        "Website",
        3.3,
        LeadStatus.WON,
    ),
    DemoLead(
        "Hannah",
        "Lopez",
        "",
        "+1 512 287 1145",
        "hannah.lopez@outlook.com",
        "Price of the premium package",
        "Instagram",
        "Website",
        3.9,
        LeadStatus.NURTURING,
    ),
    DemoLead(
        "Michael",
        "Grant",
        "Grant Roofing",
        "+1 215 256 9920",
        "mike@grantroofing.com",
        "Wants a quote for a fleet of 5 vans",
        "Yelp",
        "Website",
        4.5,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Aisha",
        "Patel",
        "Patel Pharmacy",
        "+1 212 262 4473",
        "aisha@patelpharmacy.com",
        "Pricing for 20 seats",
        "Google search",
        "Website",
        5.2,
        LeadStatus.LOST,
    ),
    DemoLead("Chris", "Jordan", "", "+1 303 295 3318", "", "Test drive this weekend", "Radio ad", "Website", 5.8),
    DemoLead(
        "Laura",
        "Bennett",
        "Bennett Interiors",
        "+1 617 238 6654",
        "laura@bennettinteriors.com",
        "Integration with QuickBooks",
        "Trade magazine",
        "Website",
        6.4,
        LeadStatus.APPOINTMENT,
    ),
    DemoLead(
        "Daniel",
        "Kowalski",
        "Kowalski Brewing",
        "+1 312 276 2209",
        "dan@kowalskibrewing.com",
        "Pricing for 12 seats and SMS add-on",
        "Google search",
        "Website",
        7.1,
        LeadStatus.WON,
    ),
    DemoLead(
        "Megan",
        "Foster",
        "",
        "+1 415 249 8831",
        "megan.foster@yahoo.com",
        "Lease vs. buy for the new model",
        "Facebook",
        "Website",
        7.9,
    ),
    DemoLead(
        "Victor",
        "Ramos",
        "Ramos Landscaping",
        "+1 305 288 1176",
        "",
        "Wants someone to call back after 5pm",
        "Google search",
        "Website",
        8.6,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Natalie",
        "Brooks",
        "Brooks Yoga Studio",
        "+1 512 264 5507",
        "natalie@brooksyoga.com",
        "Member check-in and reminders",
        "Instagram",
        "Website",
        9.3,
        LeadStatus.NURTURING,
    ),
    DemoLead(
        "Samuel",
        "Adeyemi",
        "Adeyemi Consulting",
        "+1 404 257 3390",
        "sam@adeyemiconsulting.com",
        "Pricing for 20 seats",
        "LinkedIn ad",
        "Website",
        10.2,
        LeadStatus.UNQUALIFIED,
    ),
    DemoLead(
        "Rachel",
        "Stein",
        "",
        "+1 206 271 6648",
        "",
        "Test drive of the new model",
        "Drove by the showroom",
        "Website",
        11.0,
    ),
    DemoLead(
        "Jason",
        "Murphy",
        "Murphy HVAC",
        "+1 602 266 2284",
        "jason@murphyhvac.com",
        "Dispatch and follow-up for 10 technicians",
        "Google search",
        "Website",
        12.4,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Isabel",
        "Romero",
        "Romero Bakery",
        "+1 215 243 7712",
        "isabel@romerobakery.com",
        "Online ordering and loyalty program",
        "Friend",
        "Website",
        13.7,
    ),
    DemoLead(
        "Ethan",
        "Walsh",
        "Walsh Property Group",
        "+1 212 297 5536",
        "ethan@walshproperty.com",
        "Pricing for 40 seats, needs SSO",
        "Webinar",
        "Website",
        15.1,
        LeadStatus.APPOINTMENT,
    ),
    DemoLead(
        "Chloe",
        "Dubois",
        "",
        "+1 617 281 3327",
        "chloe.dubois@gmail.com",
        "Trade-in value for her current car",
        "Google search",
        "Website",
        16.8,
        LeadStatus.LOST,
    ),
    DemoLead(
        "Patrick",
        "Nolan",
        "Nolan Insurance",
        "+1 312 259 8843",
        "pat@nolaninsurance.com",
        "Pricing for 20 seats",
        "Capterra",
        "Website",
        18.5,
        LeadStatus.WON,
    ),
    DemoLead(
        "Grace",
        "Okafor",
        "Okafor Family Dental",
        "+1 404 276 1195",
        "grace@okafordental.com",
        "Referred by Helen: appointment reminders",
        "Referral",
        "Referral",
        1.0,
        referred_by="Whitaker",
    ),
    DemoLead(
        "Liam",
        "Bell",
        "Bell Electric",
        "+1 312 283 6620",
        "",
        "His brother Marcus uses us; wants pricing",
        "Referral",
        "Referral",
        4.2,
        LeadStatus.WORKING,
        referred_by="Bell",
    ),
    DemoLead(
        "Zoe",
        "Park",
        "Park Design Studio",
        "+1 415 277 9014",
        "zoe@parkdesign.studio",
        "Grace Kim recommended us; 6 seats",
        "Referral",
        "Referral",
        9.8,
        LeadStatus.WON,
        referred_by="Kim",
    ),
    DemoLead(
        "Carlos",
        "Mendoza",
        "Mendoza Construction",
        "+1 713 261 4408",
        "carlos@mendozabuild.com",
        "Met us at the booth: field crew scheduling",
        "Trade show booth",
        "Trade show",
        0.7,
    ),
    DemoLead(
        "Tiffany",
        "Moore",
        "Moore Realty Group",
        "+1 214 289 5561",
        "tmoore@moorerealty.com",
        "Pricing for 20 seats",
        "Trade show booth",
        "Trade show",
        2.4,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Andre",
        "Williams",
        "",
        "+1 713 254 7730",
        "",
        "Test drive of the new model",
        "Trade show booth",
        "Trade show",
        3.6,
    ),
    DemoLead(
        "Kimberly",
        "Tran",
        "Tran Nail Spa",
        "+1 832 265 2219",
        "kim@trannailspa.com",
        "Booking and SMS reminders for 4 locations",
        "Trade show booth",
        "Trade show",
        6.9,
        LeadStatus.APPOINTMENT,
    ),
    DemoLead(
        "Derek",
        "Johnson",
        "Johnson Towing",
        "+1 214 278 3342",
        "derek@johnsontowing.com",
        "Wants a fleet quote",
        "Trade show booth",
        "Trade show",
        8.1,
        LeadStatus.NURTURING,
    ),
    DemoLead(
        "Monica",
        "Garza",
        "Garza Family Law",
        "+1 512 293 6675",
        "monica@garzalaw.com",
        "Pricing for 20 seats",
        "Trade show booth",
        "Trade show",
        11.6,
        LeadStatus.WON,
    ),
    DemoLead(
        "Steven",
        "Baker",
        "",
        "+1 713 286 9953",
        "steven.baker@gmail.com",
        "Just browsing, asked for a brochure",
        "Trade show booth",
        "Trade show",
        14.3,
        LeadStatus.LOST,
    ),
    DemoLead(
        "Angela",
        "Russo",
        "Russo Imports",
        "+1 832 247 1186",
        "angela@russoimports.com",
        "Test drive of the new model",
        "Trade show booth",
        "Trade show",
        17.9,
        LeadStatus.WORKING,
    ),
    DemoLead(
        "Paul",
        "Henderson",
        "Henderson Farms",
        "+1 214 251 4437",
        "",
        "Needs a quote before the spring season",
        "Trade show booth",
        "Trade show",
        20.5,
    ),
]

# How each lead reaches its status: the path a rep would take.
STATUS_PATHS = {
    LeadStatus.NEW: [],
    LeadStatus.WORKING: [LeadStatus.WORKING],
    LeadStatus.APPOINTMENT: [LeadStatus.WORKING, LeadStatus.APPOINTMENT],
    LeadStatus.NURTURING: [LeadStatus.WORKING, LeadStatus.NURTURING],
    LeadStatus.WON: [LeadStatus.WORKING, LeadStatus.APPOINTMENT, LeadStatus.WON],
    LeadStatus.LOST: [LeadStatus.WORKING, LeadStatus.LOST],
    LeadStatus.UNQUALIFIED: [LeadStatus.UNQUALIFIED],
}
# What the reps logged on the demo leads they worked, in turn (calls; other channels log "sent").
CALL_OUTCOMES = [Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.CONNECTED, Outcome.NO_ANSWER, Outcome.NOT_INTERESTED]
CLOSE_REASONS = {
    LeadStatus.LOST: "Chose a competitor on price; confirmed on the phone (demo data).",
    LeadStatus.UNQUALIFIED: "Student project, not a buyer (demo data).",
}


class Command(BaseCommand):
    help = "Load the demo teams, users, lead sources and leads (idempotent; demo only)."

    def handle(self, *args, **options):
        with transaction.atomic():
            teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("North", "South")}
            users = self._users(teams)
            sources, api_key = self._sources(teams)
            customers = self._customers(users)
            created = self._leads(sources, users, customers)

        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {created} new leads, {Lead.objects.count()} in all."))
        self.stdout.write(f"Logins (demo only): {', '.join(USERS)} / password {DEMO_PASSWORD!r}")
        self.stdout.write(f"Website lead source API key (demo only): {api_key}")

    def _users(self, teams):
        users = {}
        for username, (first, last, role, team, manages, phone) in USERS.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@leadfollow.example",
                    "role": role,
                    "team": teams.get(team),
                    "phone": phone_normalize(phone),
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if manages:
                teams[manages].managers.add(user)
            users[username] = user
        return users

    def _sources(self, teams):
        sources = {}
        for name, (team, cost) in SOURCES.items():
            source, _ = LeadSource.objects.get_or_create(
                name=name, defaults={"team": teams[team], "cost_per_lead": cost}
            )
            sources[name] = source
        api_key = lead_source_issue_api_key(source=sources["Website"], raw_key=DEMO_API_KEY)
        return sources, api_key

    def _customers(self, users):
        now = timezone.now()
        customers = {}
        for first, last, company, phone, email, owner, days in CUSTOMERS:
            contact, _ = Contact.objects.get_or_create(
                phone=phone_normalize(phone),
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "company": company,
                    "email": email,
                    "owner": users[owner],
                    "last_referral_call_at": now - datetime.timedelta(days=days) if days else None,
                },
            )
            customers[last] = contact
        return customers

    def _leads(self, sources, users, customers) -> int:
        now = timezone.now()
        created = 0
        # Oldest first, so round-robin hands them out the way they arrived.
        for demo in sorted(LEADS, key=lambda d: -d.days_ago):
            phone = phone_normalize(demo.phone)
            if Lead.objects.filter(phone=phone).exists():
                continue
            result = lead_intake(
                first_name=demo.first_name,
                last_name=demo.last_name,
                phone=phone,
                email=demo.email,
                company=demo.company,
                source=sources[demo.source],
                how_heard=demo.how_heard,
                interest=demo.interest,
                via="referral" if demo.referred_by else "api" if demo.source == "Website" else "form",
                referred_by=customers.get(demo.referred_by),
                at=now - datetime.timedelta(days=demo.days_ago),
            )
            created += result.created
            lead = result.lead
            if demo.status != LeadStatus.NEW:
                # Given-up leads stop after two tries: the compliance report's example of closing early.
                self._log_past_work(lead, now, limit=2 if demo.status in CLOSE_REASONS else None)
                lead.refresh_from_db()
            for status in STATUS_PATHS[demo.status]:
                reason = CLOSE_REASONS.get(status, "")
                # Giving up before the minimum attempts needs a manager's override and reason.
                by = users["manager"] if reason else lead.owner
                lead = lead_status_change(lead=lead, status=status, by=by, reason=reason, override=bool(reason))
        return created

    def _log_past_work(self, lead: Lead, now, limit: int | None = None) -> None:
        """The rep worked this lead: every task due more than an hour ago is logged, a few minutes
        after it was due, so the reports and the timeline have a history to show."""
        if lead.owner is None:
            return
        due = Touch.objects.filter(
            lead=lead, automated=False, status=TouchStatus.SCHEDULED, due_at__lt=now - datetime.timedelta(hours=1)
        ).order_by("due_at", "pk")[:limit]
        for index, touch in enumerate(due):
            if touch.channel == "call":
                outcome = CALL_OUTCOMES[(lead.pk + index) % len(CALL_OUTCOMES)]
            else:
                outcome = Outcome.SENT
            touch_complete(touch=touch, outcome=outcome, by=lead.owner)
            done_at = touch.due_at + datetime.timedelta(minutes=4 + (lead.pk * 13 + index * 7) % 50)
            Touch.objects.filter(pk=touch.pk).update(completed_at=done_at)
            LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.TOUCH, data__touch=touch.pk).update(
                created_at=done_at
            )
        first = Touch.objects.filter(lead=lead, status=TouchStatus.DONE).order_by("completed_at").first()
        last = Touch.objects.filter(lead=lead, status=TouchStatus.DONE).order_by("-completed_at").first()
        if first:
            Lead.objects.filter(pk=lead.pk).update(
                first_response_at=first.completed_at, last_touch_at=last.completed_at
            )
