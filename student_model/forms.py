from django import forms
from django.conf import settings


class AnswerForm(forms.Form):
    # Emptiness and length are checked by services.validate_answer_text, whose messages the page shows.
    answer = forms.CharField(
        required=False,
        strip=False,
        label="Your answer",
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "data-max-chars": settings.MAX_ANSWER_CHARS,
                "placeholder": "Write your answer in your own words…",
                "aria-describedby": "answer-errors answer-help",
            }
        ),
    )
