"""Plain records shared by the dataset readers and the ML code (no Django)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GradedAnswer:
    """One real student answer with its teacher's judgement, in a dataset-neutral shape."""

    dataset: str  # "semeval" | "saf" | "mohler"
    subset: str  # "sciEntsBank" | "beetle" | "english" | "german" | "mohler"
    split: str  # "train" | "unseen_answers" | ... (whatever the folder says)
    question_id: str
    question: str
    reference_answers: tuple[str, ...]
    answer_id: str
    answer: str
    student_id: str = ""  # pseudonymous id from the source, where it has one
    label: str = ""  # "correct" | "partially_correct" | "contradictory" | "incorrect" ("" if none)
    score: float | None = None  # points given, where the data has them
    max_score: float | None = None
    feedback: str = ""  # the tutor's written feedback (SAF)
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def normalised_score(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return max(0.0, min(1.0, self.score / self.max_score))
