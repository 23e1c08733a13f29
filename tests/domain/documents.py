"""Course documents for the tests, made of real material.

Units, skills and readings come from OpenStax *Introduction to Python Programming*
(CC BY 4.0; module ids and titles as in the book); questions and reference answers are
SciEntsBank items of SemEval-2013 Task 7 (CC BY 4.0), as in docs/course_format.md.
"""

import copy

OPENSTAX = "OpenStax, Introduction to Python Programming (openstax.org)"

# (module id, title, first sentence of its text)
READINGS = [
    ("m00003", "Input/output", "The print() function displays output to the user."),
    ("m00004", "Variables", "Variables allow programs to refer to values using names rather than memory locations."),
    ("m00005", "String basics", "A string is a sequence of characters enclosed by matching single (') or double (\") quotes."),
    ("m00006", "Number basics", "Python supports two basic number formats, integer and floating-point."),
    ("m00011", "The Python shell", "Use a Python shell to run statements and expressions interactively."),
    ("m00012", "Type conversion", "Explain how the interpreter uses implicit type conversion."),
]

# (external id, prompt, reference answer id, reference answer)
QUESTIONS = [
    (
        "EM_45b",
        "You used several methods to separate and identify the substances in mock rocks. "
        "How did you separate the salt from the water?",
        "EM_45b-a1",
        "The water was evaporated, leaving the salt.",
    ),
    (
        "EM_45c",
        "You used several methods to separate and identify the substances in mock rocks. "
        "How did you know the crystals were salt?",
        "EM_45c-a1",
        "The crystals were square with Xs on the surface.",
    ),
    (
        "EM_16b",
        "Topaz is a mineral that cannot be scratched by a fingernail, a penny, or a paperclip. "
        "How hard is topaz compared to minerals X, Y, and Z? Explain how you know.",
        "EM_16b-a1",
        "Topaz would be the hardest of the 4 minerals because none of the tools could scratch topaz "
        "and at least one tool could scratch each of the other minerals.",
    ),
]


def sample_document(slug: str = "intro-python") -> dict:
    """A small valid document using every part of the format."""
    return copy.deepcopy(
        {
            "format": "tutor-course",
            "version": 1,
            "course": {
                "slug": slug,
                "title": "Introduction to Python Programming",
                "description": "Statements and expressions, with a few science short-answer questions.",
                "source": OPENSTAX,
                "source_url": "https://openstax.org/details/books/introduction-python-programming",
                "licence": "CC BY 4.0",
                "attribution": "Access for free at openstax.org.",
            },
            "units": [
                {"id": "ch1", "order": 1, "title": "Statements"},
                {"id": "ch2", "order": 2, "title": "Expressions"},
            ],
            "skills": [
                {"slug": "ch1-input-output", "name": "Input/output", "description": "print() and input()",
                 "unit": "ch1", "prerequisites": []},
                {"slug": "ch1-variables", "name": "Variables", "description": "", "unit": "ch1",
                 "prerequisites": ["ch1-input-output"]},
                {"slug": "ch2-the-python-shell", "name": "The Python shell", "description": "", "unit": "ch2",
                 "prerequisites": ["ch1-input-output"]},
                {"slug": "ch2-type-conversion", "name": "Type conversion", "description": "", "unit": "ch2",
                 "prerequisites": ["ch1-variables", "ch2-the-python-shell"]},
                {"slug": "separating-mixtures", "name": "Separating mixtures", "description": "", "unit": None,
                 "prerequisites": []},
            ],
            "questions": [
                {
                    "external_id": qid,
                    "unit": "ch1" if i < 2 else None,
                    "order": i + 1,
                    "prompt": prompt,
                    "max_points": 1.0 if i < 2 else 2.0,
                    "skills": ["separating-mixtures"] if i < 2 else [],
                    "reference_answers": [{"external_id": aid, "text": answer}],
                    "rubric": [{"description": "Names evaporation", "points": 1.0}] if i == 0 else [],
                }
                for i, (qid, prompt, aid, answer) in enumerate(QUESTIONS)
            ],
            "resources": [
                {
                    "external_id": mid,
                    "unit": "ch1" if mid < "m00010" else "ch2",
                    "kind": "reading",
                    "order": i + 1,
                    "title": title,
                    "body": text,
                    "url": "",
                    "skills": ["ch1-input-output"] if mid == "m00003" else [],
                    "source": OPENSTAX,
                    "licence": "CC BY 4.0",
                }
                for i, (mid, title, text) in enumerate(READINGS)
            ]
            + [
                {
                    "external_id": "openstax-book",
                    "unit": None,
                    "kind": "link",
                    "order": 0,
                    "title": "The book on openstax.org",
                    "body": "",
                    "url": "https://openstax.org/details/books/introduction-python-programming",
                    "skills": [],
                    "source": OPENSTAX,
                    "licence": "CC BY 4.0",
                }
            ],
        }
    )


def scaled_document(n_questions: int, n_resources: int, slug: str = "intro-python") -> dict:
    """The sample's real items repeated (with distinct ids) to the size of a full course."""
    doc = sample_document(slug)
    questions, resources = doc["questions"], doc["resources"][:-1]
    doc["questions"] = []
    for i in range(n_questions):
        q = copy.deepcopy(questions[i % len(questions)])
        q["external_id"] = f"{q['external_id']}-{i}"
        q["order"] = i + 1
        q["reference_answers"][0]["external_id"] = f"{q['external_id']}-a1"
        doc["questions"].append(q)
    doc["resources"] = []
    for i in range(n_resources):
        r = copy.deepcopy(resources[i % len(resources)])
        r["external_id"] = f"{r['external_id']}-{i}"
        r["order"] = i + 1
        doc["resources"].append(r)
    return doc
