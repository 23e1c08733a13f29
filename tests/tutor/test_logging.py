import io
import logging

import pytest
from django.urls import path, reverse

from tutor import urls as project_urls


def _console_handlers(logger_name: str) -> list[logging.StreamHandler]:
    """The console handlers a record of ``logger_name`` reaches (pytest's own capture handlers left out)."""
    handlers, logger = [], logging.getLogger(logger_name)
    while logger is not None:
        handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        if not logger.propagate:
            break
        logger = logger.parent
    return handlers


@pytest.fixture
def console(settings):
    """What Django's request logger prints, with DEBUG on (as under `make run`)."""
    settings.DEBUG = True
    buffer = io.StringIO()
    handlers = _console_handlers("django.request") + _console_handlers("django.security.DisallowedHost")
    handlers = list(dict.fromkeys(handlers))
    streams = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, streams):
        handler.setStream(stream)


def _boom(request):
    raise RuntimeError("the grader fell over")


urlpatterns = project_urls.urlpatterns + [path("boom/", _boom)]


@pytest.mark.django_db
def test_a_refused_page_is_logged_once_and_without_a_traceback(client, student, course, console):
    client.force_login(student)
    url = reverse("course-dashboard", args=[course.slug])

    assert client.get(url).status_code == 403

    logged = console.getvalue()
    assert logged.count(f"Forbidden (Permission denied): {url}") == 1
    assert "Traceback" not in logged


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_server_error_keeps_its_traceback(client, student, console):
    client.raise_request_exception = False
    client.force_login(student)

    assert client.get("/boom/").status_code == 500

    logged = console.getvalue()
    assert logged.count("Internal Server Error: /boom/") == 1
    assert "Traceback" in logged and "the grader fell over" in logged


@pytest.mark.django_db
def test_a_request_for_a_foreign_host_is_logged_once_and_without_a_traceback(client, console):
    # Django logs a SuspiciousOperation on django.security.*, not on django.request.
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400

    logged = console.getvalue()
    assert logged.count("Invalid HTTP_HOST header: 'evil.example'") == 1
    assert "Traceback" not in logged
