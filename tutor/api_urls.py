"""Everything under /api/v1/: each app contributes its routes; the root lists their collections."""

from django.urls import include, path
from rest_framework.routers import APIRootView

from domain.api_urls import router as domain_router
from pedagogy.api_urls import chat_router
from student_model.api_urls import router as student_model_router


class ApiRootView(APIRootView):
    """The API's collections (``/api/docs/`` describes every route)."""


_collections = {
    prefix: f"{basename}-list"
    for router in (domain_router, student_model_router, chat_router)
    for prefix, _viewset, basename in router.registry
}

urlpatterns = [
    path("", ApiRootView.as_view(api_root_dict=_collections), name="api-root"),
    path("", include("domain.api_urls")),
    path("", include("student_model.api_urls")),
    path("", include("pedagogy.api_urls")),
]
