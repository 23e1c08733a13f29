from django.contrib import admin

from .models import Conversation, FlaggedQuestion, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "sender", "author", "intent", "text", "confidence", "hint_level"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["author", "question"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "student", "course", "created_at", "last_message_at"]
    list_select_related = ["student", "course"]
    list_filter = ["course"]
    search_fields = ["student__username", "course__slug", "messages__text"]
    raw_id_fields = ["student"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "sender", "intent", "confidence", "created_at"]
    list_select_related = ["conversation__student", "conversation__course"]
    list_filter = ["sender", "intent", "conversation__course"]
    search_fields = ["text", "conversation__student__username"]
    raw_id_fields = ["conversation", "author", "question"]
    show_full_result_count = False


@admin.register(FlaggedQuestion)
class FlaggedQuestionAdmin(admin.ModelAdmin):
    list_display = ["id", "course", "status", "text", "answered_by", "created_at"]
    list_select_related = ["course", "answered_by"]
    list_filter = ["status", "course"]
    search_fields = ["text", "answer", "conversation__student__username"]
    raw_id_fields = ["conversation", "message", "answered_by", "resource"]
