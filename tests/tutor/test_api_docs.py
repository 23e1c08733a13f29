"""The API docs page works offline: Swagger UI comes from this server's static files, not a CDN."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_api_docs_load_their_scripts_and_styles_from_this_server(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    scripts = [u for u in urls if u.endswith(".js")]
    assert any("swagger-ui-bundle" in u for u in scripts) and any(u.endswith(".css") for u in urls)
    assert [u for u in urls if re.match(r"(?i)(https?:)?//", u)] == []
    assert not re.search(r"(?i)https?://[^\s\"']*(jsdelivr|unpkg|cdnjs)", html)
    for url in scripts:
        served = client.get(url)
        assert served.status_code == 200, url
        assert b"".join(served.streaming_content if served.streaming else [served.content])
