"""Question answering over course resources: chunking, embedding, index, re-ranking, answers.

Plain Python (no Django). ``pedagogy.retrieval`` builds a :class:`QAEngine` from a course's
resources and keeps it per process.
"""

from .chunking import Document, Passage, chunk_document, chunk_documents
from .qa import Answer, Citation, QAEngine

__all__ = ["Answer", "Citation", "Document", "Passage", "QAEngine", "chunk_document", "chunk_documents"]
