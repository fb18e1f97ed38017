"""Every answer under /api/ is JSON, errors included: a client of a JSON API never parses an HTML page.

- Bodies: intake.api_parsers.JSONParser makes every parse failure a 400, deep nesting included.
- Views: DRF's exception handler, plus a JSON 500 for what it does not know (logged with its
  traceback), a 400 for a request Django finds suspicious (too many form fields), and errors always
  rendered as JSON even by the views that succeed in YAML (the schema) or HTML (the docs).
- Paths: anything under /api/ that no endpoint serves is a JSON 404 (api_urls.py's last pattern).
"""

import logging

from django.core.exceptions import SuspiciousOperation
from django.urls import Resolver404, resolve
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler, set_rollback

log = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's answers, and JSON for everything else too."""
    if isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(f"Bad request: {exc}")
    response = exception_handler(exc, context)
    request = context.get("request")
    if response is None:
        log.error("Server error answering %s", request and f"{request.method} {request.path}", exc_info=exc)
        set_rollback()
        response = Response({"detail": "Server error."}, status=500)
    if request is not None:
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return response


class ApiNotFoundView(APIView):
    """Whatever is under /api/ and matches no endpoint, with any method: a JSON 404."""

    authentication_classes = []
    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        detail = f"No API endpoint at {request.path}."
        if not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "view_class", None) is not ApiNotFoundView:
                detail += f" Did you mean {request.path}/ (with the trailing slash)?"
        raise exceptions.NotFound(detail)
