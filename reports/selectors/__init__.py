"""Reads for the reports: every figure is a SQL aggregate over the leads the viewer may see.

Every term a report counts (attempt, automated touch, followed up, first response, left behind,
abandoned, closed early) is defined and computed once, in ``vocabulary``; each page shows those
definitions under "How this is counted". Where each report lives:

- ``friday``: Feedback Friday, the week's per-rep totals and per-lead rows (page, CSV, email).
- ``compliance``: five-attempts compliance, given-up leads with too few attempts, and the
  give-up distribution by the number of "no"s.
- ``speed``: speed to lead, the first automated send and the first human call after arrival.
- ``coverage``: shares of leads with 1, 2 and 5 attempts, and the open leads never followed up.
- ``converts``: what converts, won / leads by response time, attempts, channel and source.

Shared by all of them:

- ``scope``: who may see what (rep, team, org) and the ``?team=`` / ``?rep=`` filters.
- ``period``: weeks and date ranges in the organisation's timezone (DST weeks included).
- ``vocabulary``: the terms, as Q conditions and aggregates, and their definitions' text.
- ``percentiles``: medians and p90 of response times.

Callers import the module of the report they show (``from reports.selectors.friday import
friday_report``); this package re-exports nothing.
"""
