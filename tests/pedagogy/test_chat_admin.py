"""Every admin page of the pedagogy app opens for a superuser."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(course, student):
    factories.FlaggedQuestionFactory(message=factories.MessageFactory(conversation=factories.ConversationFactory(
        student=student, course=course
    )))


def test_every_pedagogy_model_has_an_admin():
    assert set(apps.get_app_config("pedagogy").get_models()) <= set(admin.site._registry)


@pytest.mark.parametrize("page", ["changelist", "add", "change"])
def test_admin_pages_open(client, admin_user, chat, page):
    client.force_login(admin_user)
    for model in apps.get_app_config("pedagogy").get_models():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
        url = reverse(name, args=[model.objects.first().pk]) if page == "change" else reverse(name)
        response = client.get(url, {"q": "exam"} if page == "changelist" else {})
        assert response.status_code == 200, url
