"""Medians and p90 of response times.

Computed in Python from one query that returns only the durations, already computed and sorted
by the database, for the leads in the chosen range (a week for Feedback Friday, 12 weeks by
default for speed to lead). That is the same on SQLite and PostgreSQL and keeps the rest of the
figures in SQL; PERCENTILE_CONT would save the transfer on PostgreSQL only, and the scoped sets
are small. Interpolation is linear, as PERCENTILE_CONT.
"""

import math


def percentile(sorted_values: list, fraction: float):
    """Linear-interpolated percentile of an ascending list (as PostgreSQL's PERCENTILE_CONT); None if empty."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def median_and_p90(values: list) -> dict:
    """Median, p90 and sample size of unsorted `values`."""
    values = sorted(values)
    return {"median": percentile(values, 0.5), "p90": percentile(values, 0.9), "n": len(values)}
