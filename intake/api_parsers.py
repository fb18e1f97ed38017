"""The API's JSON parser: a body nested too deeply is a 400 like any other malformed JSON, never the
RecursionError (a 500) that Python's json module raises past its recursion limit.

Named in REST_FRAMEWORK's DEFAULT_PARSER_CLASSES, so it must not import rest_framework.views (which
reads that setting while it is imported).
"""

from rest_framework import exceptions, parsers

# An inquiry is a flat object; a few levels leave room for odd form backends.
MAX_JSON_DEPTH = 32


def nested_deeper_than(value, limit: int) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deeply is a 400 like any other malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            too_deep = nested_deeper_than(data, MAX_JSON_DEPTH)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise exceptions.ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.")
        return data
