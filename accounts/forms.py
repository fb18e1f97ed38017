"""Form fields shared by the pages that ask for a timezone (lead intake and edit, the user admin)."""

from django import forms

from accounts.timezones import timezone_choices, timezone_values


class TimezoneField(forms.ChoiceField):
    """A select of IANA zones grouped as accounts.timezones lays them out (the region's common zones
    first), with a text box to filter it (static/js/timezone-filter.js, for the data-zone-filter
    attribute). `blank` is the label of the empty choice; a zone not in the list is refused with a
    message that says what to do rather than Django's "Select a valid choice"."""

    default_error_messages = {
        "invalid_choice": "Unknown timezone “%(value)s”. Pick one from the list: type a city or a region to find it.",
    }

    def __init__(self, *, blank: str | None = "", region: str | None = None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"data-zone-filter": "", "autocomplete": "off"})
        self.region = region
        self.set_zones(blank=blank)

    def set_zones(self, *, blank: str | None = "", extra: str = "") -> None:
        """The choices: `blank` first (None: no empty choice), `extra` (a zone the list lacks, such as a
        lead's old alias "US/Eastern") as itself, then the groups. A callable: Django reads it each
        time the form is shown or checked, so the labels' offsets follow daylight saving."""

        def choices():
            groups = timezone_choices(self.region)
            first = [] if blank is None else [("", blank)]
            if extra and extra not in timezone_values(groups):
                first.append((extra, extra.replace("_", " ")))
            return [*first, *groups]

        self.choices = choices
