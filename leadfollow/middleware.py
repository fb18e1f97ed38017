"""Cache-Control for pages that show personal data.

Every response to a signed-in user, and the public unsubscribe page (its URL is the capability and
it names the address), is marked `private, no-store`: no proxy or shared cache keeps it and the
browser does not keep it on disk for the back button after logging out. Static files are answered
by WhiteNoise before this middleware runs and keep their long cache lifetimes; other public pages
(login, password reset, health check, API schema) are left as their views mark them.
"""

from django.utils.cache import patch_cache_control

PUBLIC_PRIVATE_PAGES = {"unsubscribe"}


class PrivatePagesNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if (user is not None and user.is_authenticated) or (match and match.view_name in PUBLIC_PRIVATE_PAGES):
            patch_cache_control(response, private=True, no_store=True)
        return response
