from django.http import HttpRequest

from domain.selectors import user_role


def roles(request: HttpRequest) -> dict:
    """The signed-in user's role, for navigation."""
    return {"user_role": user_role(request.user)}
