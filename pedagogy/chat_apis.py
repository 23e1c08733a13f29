"""REST API of the tutoring chat (/api/v1/conversations/, /api/v1/flagged-questions/).

Reads go through ``chat_selectors`` (students see their own conversation, teachers their courses',
admins everything; anything else is a 404). The chat itself runs over the websocket; a teacher
answers a flagged question here or on the conversations page, through ``chat_services``.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from domain.apis import ApiViewMixin

from . import chat_selectors, chat_services
from .chat_serializers import (
    ConversationSerializer,
    FlaggedAnswerSerializer,
    FlaggedQuestionSerializer,
    MessageSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List the tutoring conversations you can see"),
    retrieve=extend_schema(summary="One tutoring conversation"),
)
class ConversationViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ConversationSerializer
    ordering_fields = ["last_message_at", "created_at", "id"]

    def get_queryset(self):
        return chat_selectors.conversation_list(user=self.request.user)

    @extend_schema(summary="The messages of a conversation, oldest first", responses={200: MessageSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def messages(self, request, pk=None):
        conversation = self.get_object()
        messages = chat_selectors.message_list(conversation=conversation)
        return Response(MessageSerializer(messages, many=True, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="List the flagged questions you can see"),
    retrieve=extend_schema(summary="One flagged question"),
)
class FlaggedQuestionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = FlaggedQuestionSerializer
    ordering_fields = ["created_at", "status", "id"]

    def get_queryset(self):
        return chat_selectors.flagged_question_list(user=self.request.user)

    @extend_schema(
        summary="Answer a flagged question",
        description=(
            "For the course's teachers: the answer is sent into the student's chat and added to the course's "
            "readings, so the tutor can answer the question next time. A question is answered once."
        ),
        request=FlaggedAnswerSerializer,
        responses={201: MessageSerializer},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        flagged = self.get_object()
        serializer = FlaggedAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = chat_services.flagged_question_answer(
            flagged=flagged, teacher=request.user, answer=serializer.validated_data["answer"]
        )
        return Response(
            MessageSerializer(message, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )
