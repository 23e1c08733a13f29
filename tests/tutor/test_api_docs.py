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


def test_the_api_root_lists_every_collection_of_the_apps(client, student):
    client.force_login(student)
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    index = response.json()
    for collection in ("courses", "questions", "submissions", "grades", "regrades", "conversations"):
        assert index[collection] == f"http://testserver/api/v1/{collection}/", collection
    assert client.get(index["questions"]).status_code == 200


def test_the_classic_favicon_path_leads_to_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/img/favicon.svg")
