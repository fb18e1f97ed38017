def navigation(request):
    """Role flags and the unread-notification count for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_is_rep": user.is_rep,
        "nav_is_manager": user.is_manager,
        "nav_is_admin": user.is_admin_role,
        "nav_unread_count": user.notifications.filter(read_at__isnull=True).count(),
    }
