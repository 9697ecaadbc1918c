"""Who may use the dashboard: signed-in staff; htmx requests are sent to the login whole."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from leads.selectors.access import user_is_staff


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class StaffRequest(HtmxHttpRequest):
    """A request `staff_required` let through: its user is a signed-in member of staff."""

    user: User


View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Anonymous users go to the login page; signed-in users who are not staff get a 403."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            if request.htmx:
                # A partial would land inside the page: send the whole browser to the login.
                path = request.htmx.current_url_abs_path or request.get_full_path()
                login = resolve_url(settings.LOGIN_URL)
                return HttpResponseClientRedirect(f"{login}?{urlencode({'next': path}, safe='/')}")
            return redirect_to_login(request.get_full_path())
        if not user_is_staff(request.user):
            raise PermissionDenied("The dashboard is for staff; ask an administrator for access.")
        return view(request, *args, **kwargs)

    return wrapper
