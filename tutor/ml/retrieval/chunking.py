"""Cut Markdown resources into passages small enough to embed and to quote.

A resource is split at its headings into sections; each section's text is cut into units
(sentences, list items, whole code blocks or tables) and the units are grouped into windows
of a few sentences that overlap by one, so an answer sentence is never cut off from its
neighbour. Every unit of the body lands in at least one passage.
"""

import re
import unicodedata
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by a capital,
# digit, quote or bracket. Good enough for textbook prose; code is never split.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[`*])")


@dataclass(frozen=True)
class Document:
    """A resource to index: its stable id (the resource ``external_id``), title and Markdown."""

    external_id: str
    title: str
    markdown: str
    resource_id: int | None = None  # the database row, when there is one


@dataclass(frozen=True)
class Passage:
    external_id: str
    title: str  # the resource's title
    section: str  # the heading the passage sits under ("" before the first heading)
    anchor: str  # slug of that heading, for a link ``#anchor`` to the section
    sentences: tuple[str, ...]
    position: int = 0  # order of the passage in its resource
    resource_id: int | None = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: the titles give short passages their topic."""
        heading = f"{self.title}: {self.section}" if self.section and self.section != self.title else self.title
        return f"{heading}. {self.text}"


def slugify(text: str) -> str:
    """Heading anchor as Python-Markdown's ``toc`` extension makes it (the product renders with it)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def clean_inline(text: str) -> str:
    """Markdown inline markup removed (emphasis, links, images), whitespace collapsed."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<!\w)[*_](\S.*?)[*_](?!\w)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; inline code spans are never split."""
    spans: list[str] = []

    def hide(match: re.Match) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    hidden = re.sub(r"(`+).+?\1", hide, text)
    sentences = [s.strip() for s in _SENTENCE_END.split(hidden) if s and s.strip()]
    return [re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], s) for s in sentences]


def split_sections(markdown: str) -> list[tuple[str, list[str]]]:
    """``[(heading, lines)]`` in order; lines before the first heading get heading ``""``."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            sections.append((clean_inline(match.group(2)), []))
        else:
            sections[-1][1].append(line)
    return [(h, lines) for h, lines in sections if h or any(line.strip() for line in lines)]


def split_units(lines: list[str]) -> list[str]:
    """The quotable units of a section: sentences, list items, and whole code blocks or tables."""
    units: list[str] = []
    paragraph: list[str] = []
    block: list[str] = []
    in_fence = False

    def flush_paragraph() -> None:
        if paragraph:
            units.extend(split_sentences(clean_inline(" ".join(paragraph))))
            paragraph.clear()

    def flush_block() -> None:
        text = "\n".join(block).strip()
        if text:
            units.append(text)
        block.clear()

    for line in lines:
        if _FENCE.match(line):
            if in_fence:
                block.append(line)
                flush_block()
            else:
                flush_paragraph()
                block.append(line)
            in_fence = not in_fence
            continue
        if in_fence:
            block.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("|"):  # a table row: tables stay whole
            flush_paragraph()
            block.append(stripped)
            continue
        if block:
            flush_block()
        if not stripped:
            flush_paragraph()
        elif _LIST_ITEM.match(line):
            flush_paragraph()
            paragraph.append(_LIST_ITEM.sub("", line, count=1))
        else:
            paragraph.append(stripped.lstrip("> ").strip() if stripped.startswith(">") else stripped)
    if in_fence or block:
        flush_block()
    flush_paragraph()
    return [u for u in units if u]


def windows(units: list[str], *, size: int, overlap: int) -> list[list[str]]:
    """Consecutive groups of ``size`` units, each sharing ``overlap`` units with the previous one."""
    if len(units) <= size:
        return [units] if units else []
    step = max(1, size - overlap)
    out = []
    for start in range(0, len(units), step):
        out.append(units[start : start + size])
        if start + size >= len(units):
            break
    return out


def chunk_document(doc: Document, *, size: int = 4, overlap: int = 1) -> list[Passage]:
    passages: list[Passage] = []
    used: dict[str, int] = {}
    for heading, lines in split_sections(doc.markdown):
        anchor = slugify(heading) if heading else ""
        if anchor:  # repeated headings get _1, _2 ... as the toc extension numbers them
            count = used.get(anchor, 0)
            used[anchor] = count + 1
            anchor = f"{anchor}_{count}" if count else anchor
        for group in windows(split_units(lines), size=size, overlap=overlap):
            passages.append(
                Passage(
                    external_id=doc.external_id,
                    title=doc.title,
                    section=heading or doc.title,
                    anchor=anchor,
                    sentences=tuple(group),
                    position=len(passages),
                    resource_id=doc.resource_id,
                )
            )
    return passages


def chunk_documents(docs, *, size: int = 4, overlap: int = 1) -> list[Passage]:
    return [p for doc in docs for p in chunk_document(doc, size=size, overlap=overlap)]
