"""Report pages: thin views over reports.selectors (one module per report), scoped to what the viewer may see."""

import datetime as dt
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Team, User
from leads.csv_safe import csv_safe_writer
from reports.forms import ReportFilterForm, WeeklySummaryForm
from reports.selectors.compliance import compliance_leads, compliance_report
from reports.selectors.converts import converts_report
from reports.selectors.coverage import coverage_report, never_followed_up_open_leads
from reports.selectors.friday import FridayReport, friday_all_rows, friday_lead_ids, friday_report, friday_rows
from reports.selectors.period import (
    arrival_days,
    leads_arrived_between,
    org_today,
    org_tz,
    range_bounds,
    recent_weeks,
    week_start_for,
)
from reports.selectors.scope import drill_down_rep, report_scope
from reports.selectors.speed import DEFAULT_SPEED_WEEKS, speed_report
from reports.selectors.vocabulary import definitions
from reports.services import weekly_summary_email_set
from reports.templatetags.report_format import few

PAGE_SIZE = 50


def render(request, template: str, context: dict, status: int | None = None):
    """Every report page shows the vocabulary's definitions under "How this is counted"."""
    context = {
        "org_timezone": org_tz().key,
        "definitions": definitions(),
        "currency": settings.ORGANIZATION_CURRENCY,
        **context,
    }
    return django_render(request, template, context, status=status)


@dataclass
class Filters:
    form: ReportFilterForm
    team: Team | None
    rep: User | None
    start: dt.datetime | None  # arrival range, UTC
    end: dt.datetime | None
    week: dt.date | None


class InvalidFilters(Exception):
    """The filters can't be read (a malformed date, a day outside the reports' calendar)."""

    def __init__(self, form: ReportFilterForm):
        super().__init__(form.errors.as_text())
        self.form = form


def answers_invalid_filters(view):
    """A report view whose filters can't be read answers 400: the filter form with its errors."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except InvalidFilters as exc:
            return render(request, "reports/invalid_filters.html", {"form": exc.form}, status=400)

    return wrapper


def _filters(request, *, period: str, default_weeks: int | None = None) -> Filters:
    """Read the filter form; a team or rep the viewer may not see is a 404, any other bad filter a 400.

    The form comes back filled with the period the page shows: the week (this one by default),
    or both ends of the range (the last `default_weeks` weeks, or from the first lead's arrival
    day to today: "all time", said in dates).
    """
    params = _params_without_page(request)
    form = ReportFilterForm(params or None, user=request.user, period=period)
    data = {}
    if form.is_bound:
        if not form.is_valid():
            if form.forbidden_choice:
                raise Http404("No such team or rep.")
            raise InvalidFilters(form)
        data = form.cleaned_data
    today = org_today()
    start = end = week = None
    team, rep = data.get("team"), data.get("rep")
    shown = {}
    if period == "week":
        week = week_start_for(data.get("week") or today)
        shown["week"] = week
    else:
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if default_weeks and not date_from and not date_to:
            date_from, date_to = recent_weeks(today, default_weeks)
        elif not date_from or not date_to:
            first, last = arrival_days(report_scope(user=request.user, team=team, rep=rep))
            date_from = date_from or min(first or today, date_to or today)
            date_to = date_to or max(last or today, today, date_from)
        start, end = range_bounds(date_from, date_to)
        shown.update(date_from=date_from, date_to=date_to)
    filled = params.copy()
    for name, day in shown.items():
        filled[name] = day.isoformat()
    form = ReportFilterForm(filled, user=request.user, period=period)
    form.is_valid()
    return Filters(form=form, team=team, rep=rep, start=start, end=end, week=week)


def _scope(request, filters: Filters):
    leads = report_scope(user=request.user, team=filters.team, rep=filters.rep)
    return leads_arrived_between(leads, filters.start, filters.end)


def _params_without_page(request) -> QueryDict:
    params = request.GET.copy()
    params.pop("page", None)
    return params


def _query_without_page(request) -> str:
    return _params_without_page(request).urlencode()


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _friday_report(request) -> tuple[Filters, FridayReport]:
    filters = _filters(request, period="week")
    report = friday_report(user=request.user, week_start=filters.week, team=filters.team, rep=filters.rep)
    return filters, report


@require_GET
@login_required
def index(request):
    return render(request, "reports/index.html", {})


@require_GET
@login_required
@answers_invalid_filters
def friday(request):
    filters, report = _friday_report(request)
    page = _page(request, friday_lead_ids(leads=report.scope, start=report.start, end=report.end))
    page.object_list = friday_rows(ids=list(page.object_list), start=report.start, end=report.end, now=timezone.now())
    chart = {
        "labels": [str(person) for person in report.reps],
        "followed_up": [person.followed_up_pct or 0 for person in report.reps],
        "n": [person.to_follow_up for person in report.reps],
        "few": [few(person.to_follow_up) for person in report.reps],
    }
    context = {
        "form": filters.form,
        "report": report,
        "page": page,
        "chart": chart,
        "week_end_day": report.week_start + dt.timedelta(days=6),
        "previous_week": report.week_start - dt.timedelta(days=7),
        "next_week": report.week_start + dt.timedelta(days=7),
        "minimum": settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        "query": _query_without_page(request),
        "filter_query": _filter_query(filters),
    }
    return render(request, "reports/friday.html", context)


def _filter_query(filters: Filters) -> str:
    params = QueryDict(mutable=True)
    if filters.team:
        params["team"] = filters.team.pk
    if filters.rep:
        params["rep"] = filters.rep.pk
    return params.urlencode()


class _Echo:
    def write(self, value):
        return value


FRIDAY_CSV_HEADER = [
    "Rep",
    "Lead ID",
    "Lead",
    "Source",
    "Arrived",
    "Status",
    "Attempts this week",
    "Automated sends this week",
    "Attempts total",
    "Channels this week",
    "Last outcome",
    "Last outcome at",
    "Next touch",
    "Next touch at",
    "Overdue tasks",
    "To follow up",
    "Followed up this week",
    "Left behind",
    "Closed early",
]


def _csv_time(value) -> str:
    return timezone.localtime(value, org_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def _yes(value) -> str:
    return "yes" if value else ""


@require_GET
@login_required
@answers_invalid_filters
def friday_csv(request):
    _, report = _friday_report(request)
    writer = csv_safe_writer(_Echo())

    def rows():
        yield writer.writerow(FRIDAY_CSV_HEADER)
        for lead in friday_all_rows(report, now=timezone.now()):
            yield writer.writerow(
                [
                    str(lead.owner),
                    lead.pk,
                    lead.full_name,
                    lead.source.name if lead.source else "",
                    _csv_time(lead.created_at),
                    lead.get_status_display(),
                    lead.attempts_week,
                    lead.automated_week,
                    lead.attempt_count,
                    "; ".join(lead.channels_week),
                    lead.last_outcome_label,
                    _csv_time(lead.last_outcome_at),
                    " ".join(filter(None, [lead.next_touch_channel_label, lead.next_touch_status_label.lower()])),
                    _csv_time(lead.next_touch_at),
                    lead.overdue_tasks,
                    _yes(lead.to_follow_up),
                    _yes(lead.followed_up),
                    _yes(lead.left_behind),
                    _yes(lead.closed_early),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="feedback-friday-{report.week_start:%Y-%m-%d}.csv"'
    return response


@require_GET
@login_required
@answers_invalid_filters
def compliance(request):
    filters = _filters(request, period="range")
    leads = _scope(request, filters)
    now = timezone.now()
    report = compliance_report(leads=leads, now=now)
    drill_rep = drill_down_rep(user=request.user, rep=filters.rep, rep_asked=bool(request.GET.get("rep")))
    drill_page = None
    if drill_rep is not None:
        drill_page = _page(request, compliance_leads(leads=leads, rep=drill_rep, now=now))
    chart = {
        "labels": [f"{row['nos']} no{'s' if row['nos'] > 1 else ''}" for row in report["give_up"]],
        "ours": [row["share"] or 0 for row in report["give_up"]],
        "industry": [row["industry"] for row in report["give_up"]],
        "few": few(report["given_up_with_no"]),
    }
    context = {
        "form": filters.form,
        "report": report,
        "drill_rep": drill_rep,
        "page": drill_page,
        "chart": chart,
        "query": _query_without_page(request),
    }
    return render(request, "reports/compliance.html", context)


def _hours(value) -> float | None:
    return round(value.total_seconds() / 3600, 2) if value is not None else None


@require_GET
@login_required
@answers_invalid_filters
def speed(request):
    filters = _filters(request, period="range", default_weeks=DEFAULT_SPEED_WEEKS)
    report = speed_report(leads=_scope(request, filters))
    weeks = report["by_week"]
    chart = {
        "labels": [f"{row['week']:%b %d}" if row["week"] else "" for row in weeks],
        "auto_median_hours": [_hours(row["auto"]["median"]) for row in weeks],
        "call_median_hours": [_hours(row["call"]["median"]) for row in weeks],
        "auto_few": [few(row["auto"]["n"]) for row in weeks],
        "call_few": [few(row["call"]["n"]) for row in weeks],
        "industry_hours": report["industry_hours"],
    }
    return render(request, "reports/speed.html", {"form": filters.form, "report": report, "chart": chart})


@require_GET
@login_required
@answers_invalid_filters
def coverage(request):
    filters = _filters(request, period="range")
    leads = _scope(request, filters)
    report = coverage_report(leads=leads)
    page = _page(request, never_followed_up_open_leads(leads=leads))
    total = report["total"]
    chart = {
        "labels": ["≥ 1 attempt (followed up)", "≥ 2 attempts", "≥ 5 attempts"],
        "shares": [round(100 * report[key] / total, 1) if total else 0 for key in ("ge1", "ge2", "ge5")],
        "few": few(total),
    }
    context = {
        "form": filters.form,
        "report": report,
        "page": page,
        "chart": chart,
        "query": _query_without_page(request),
    }
    return render(request, "reports/coverage.html", context)


@require_GET
@login_required
@answers_invalid_filters
def converts(request):
    filters = _filters(request, period="range")
    report = converts_report(leads=_scope(request, filters))
    chart = {
        "labels": [row["label"] for row in report["by_response"]],
        "rates": [row["rate"] or 0 for row in report["by_response"]],
        "few": [few(row["leads"]) for row in report["by_response"]],
        "attempt_labels": [row["label"] for row in report["by_attempts"]],
        "attempt_rates": [row["rate"] or 0 for row in report["by_attempts"]],
        "attempt_few": [few(row["leads"]) for row in report["by_attempts"]],
    }
    return render(request, "reports/converts.html", {"form": filters.form, "report": report, "chart": chart})


@require_http_methods(["GET", "POST"])
@login_required
def weekly_email(request):
    """The viewer's own weekly summary email: on (the default) or off."""
    if request.method == "POST":
        form = WeeklySummaryForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["weekly_summary_email"]
            weekly_summary_email_set(user=request.user, enabled=enabled)
            messages.success(request, "Weekly summary email " + ("on." if enabled else "off."))
            return redirect("reports:weekly_email")
    else:
        form = WeeklySummaryForm(initial={"weekly_summary_email": request.user.weekly_summary_email})
    return render(request, "reports/weekly_email.html", {"settings_form": form})
