"""Logging filters the settings' LOGGING names.

QuietTicks: beat sends two bookkeeping tasks every 5 seconds (the dispatcher and the reconciler,
leadfollow/schedules.py), and at INFO each tick is a "Sending due task" line from beat plus a
"received" and a "succeeded" line from the worker: six lines every five seconds buried the web
server's request lines in `make run`. The filter drops those INFO lines for the listed tasks only;
their warnings and errors, and every line of the tasks that do the sending (touches_send,
touches_send_now, alerts), still show.
"""

import logging


class QuietTicks(logging.Filter):
    def __init__(self, tasks=()):
        super().__init__()
        self.tasks = tuple(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        message = record.getMessage()
        return not any(task in message for task in self.tasks)
