"""Cross-app reactions: what happens when something happens to a lead.

Each reaction is one function that reads top to bottom like a recipe and calls down into the
layers below (accounts ← leads ← cadences ← messaging); nothing below imports this package.
Pages, the API, the CSV import, webhooks and the demo seeder call these instead of the lower
services when the event reaches more than one app.

- intake.lead_intake: an inquiry arrives (any path) → lead → owner → cadence → instant touches → rep alert
- cadence.cadence_start: a rep starts a cadence → its touches → the instant ones sent at once
- outcomes.touch_complete: a rep logs an outcome → attempt counted → what the outcome decides
- lifecycle.lead_status_change / lead_assign: a lead closes or changes hands → its cadence and tasks follow
- merge.lead_merge: two leads become one → touches, messages, consent and timeline move over
- inbound_sms.inbound_sms_receive: a text arrives → consent keyword or reply → cadence exit → rep task
"""
