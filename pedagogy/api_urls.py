"""Routes of the pedagogy app under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import chat_apis, progress_apis

chat_router = SimpleRouter()
chat_router.register("conversations", chat_apis.ConversationViewSet, basename="api-conversation")
chat_router.register("flagged-questions", chat_apis.FlaggedQuestionViewSet, basename="api-flagged-question")

urlpatterns = [
    # mastery, risk, recommendations
    path("courses/<slug:slug>/mastery/", progress_apis.MasteryApi.as_view(), name="api-course-mastery"),
    path(
        "courses/<slug:slug>/class-mastery/", progress_apis.ClassMasteryApi.as_view(), name="api-course-class-mastery"
    ),
    path("courses/<slug:slug>/risk/", progress_apis.RiskListApi.as_view(), name="api-course-risk"),
    path(
        "courses/<slug:slug>/recommendations/",
        progress_apis.RecommendationsApi.as_view(),
        name="api-course-recommendations",
    ),
    # conversations, messages, flagged questions
    *chat_router.urls,
]
