"""Two leads turn out to be one person: everything of the duplicate moves to the lead that stays."""

from django.db import transaction

from accounts.models import User
from cadences.services import cadence_rows_move, enrollment_exit
from leads.models import Lead
from leads.services.lifecycle import lead_fold_duplicate, leads_lock_for_merge
from messaging.services import message_rows_move
from messaging.suppressions import lead_consent_inherit


def lead_merge(*, primary: Lead, duplicate: Lead, by: User) -> Lead:
    """Fold `duplicate` into `primary`, in one transaction:

    1. both rows are locked; the duplicate's running cadence ends ("merged");
    2. its touches and enrollments, then its messages and consent records, move over;
    3. the lead side (leads.services.lifecycle.lead_fold_duplicate): timeline, blanks filled,
       counters added, the duplicate deleted with its details kept in the merge entry;
    4. a number or address of the merged lead that opted out on any lead opts it out on that channel.
    """
    with transaction.atomic():
        primary, duplicate = leads_lock_for_merge(primary=primary, duplicate=duplicate)
        enrollment_exit(lead=duplicate, reason="merged")
        cadence_rows_move(from_lead=duplicate, to_lead=primary)
        message_rows_move(from_lead=duplicate, to_lead=primary)
        primary = lead_fold_duplicate(primary=primary, duplicate=duplicate, by=by)
        lead_consent_inherit(lead=primary)
        return primary
