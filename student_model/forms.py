from django import forms
from django.conf import settings

from .models import Grade


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


class TeacherGradeForm(forms.Form):
    """A teacher's grade for one answer or a group. The range of the score is checked by the service."""

    score = forms.FloatField(label="Score", widget=forms.NumberInput(attrs={"step": "0.25", "min": 0}))
    verdict = forms.ChoiceField(label="Verdict", choices=Grade.Verdict.choices)
    feedback = forms.CharField(
        label="Feedback to the student", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class GroupGradeForm(TeacherGradeForm):
    submissions = forms.TypedMultipleChoiceField(coerce=int, label="Answers in the group")

    def __init__(self, *args, submission_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submissions"].choices = [(pk, pk) for pk in submission_ids]


class ReleasePolicyForm(forms.Form):
    auto_release = forms.BooleanField(label="Release confident model grades automatically", required=False)
    confidence_threshold = forms.FloatField(
        label="Confidence threshold", min_value=0.0, max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1}),
    )
