from celery import shared_task

from messaging.services import rep_alert_new_lead


@shared_task(ignore_result=True)
def rep_alert_new_lead_task(lead_id: int) -> None:
    rep_alert_new_lead(lead_id=lead_id)
