from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.models import Role


def role_required(*roles):
    """Allow only logged-in users with one of `roles` (superusers count as admins); others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            user = request.user
            role = Role.ADMIN if user.is_superuser else user.role
            if role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


managers_and_admins = role_required(Role.MANAGER, Role.ADMIN)
admins_only = role_required(Role.ADMIN)
