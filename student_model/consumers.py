"""Websocket that pushes a student's submission status changes to their open pages."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services import submission_group


class SubmissionStatusConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = submission_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def submission_changed(self, event: dict) -> None:
        await self.send_json({"submission_id": event["submission_id"], "question_id": event.get("question_id"),
                              "status": event["status"]})
