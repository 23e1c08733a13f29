"""Real course text for the retrieval tests: modules of the OpenStax Python book.

Read from the demo course file when the repository has it, else from the book in shared/data.
"""

from functools import lru_cache
from pathlib import Path

import pytest

from tutor.ml.retrieval.chunking import Document
from tutor.ml.retrieval.evaluate import documents_from_course_file

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "data" / "demo" / "intro-python.course.json.gz"
BOOK = ROOT.parent / "shared" / "data" / "content" / "openstax-intro-python"

SHELL = "m00011"  # "The Python shell": defines REPL
# A few neighbours that talk about similar things (input/output, lists, booleans).
OTHERS = ("m00003", "m00024", "m00028")


@lru_cache(maxsize=1)
def _all_documents() -> dict[str, Document]:
    if DEMO.exists():
        return {d.external_id: d for d in documents_from_course_file(DEMO)}
    if (BOOK / "collections").exists():
        from tutor.ml.data.openstax import read_book

        book = read_book(BOOK)
        return {m.id: Document(m.id, m.title, m.markdown) for ch in book.chapters for m in ch.modules}
    return {}


def book_documents(*ids: str) -> list[Document]:
    docs = _all_documents()
    if not docs:
        pytest.skip(f"the Python course text is absent ({DEMO} or {BOOK})")
    return [docs[i] for i in ids]
