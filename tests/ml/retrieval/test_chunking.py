import re

from tests.ml.retrieval.book import SHELL, book_documents
from tutor.ml.retrieval.chunking import (
    Document,
    chunk_document,
    clean_inline,
    slugify,
    split_sections,
    split_sentences,
    split_units,
    windows,
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_passages_keep_section_titles_and_anchors():
    doc = book_documents(SHELL)[0]
    passages = chunk_document(doc)
    assert {p.external_id for p in passages} == {SHELL}
    assert all(p.title.endswith("The Python shell") for p in passages)
    by_section = {p.section: p.anchor for p in passages}
    assert by_section["The arrow keys"] == "the-arrow-keys"
    assert by_section["The interpreter"] == "the-interpreter"
    repl = [p for p in passages if "read-eval-print loop" in p.text]
    assert repl and repl[0].section == "The arrow keys"
    assert [p.position for p in passages] == list(range(len(passages)))


def test_every_unit_and_word_of_the_body_is_in_some_passage():
    for doc in book_documents(SHELL, "m00024", "m00028"):
        passages = chunk_document(doc)
        quoted = [s for p in passages for s in p.sentences]
        for heading, lines in split_sections(doc.markdown):
            for unit in split_units(lines):
                assert unit in quoted, unit
        headings = " ".join(p.section for p in passages)
        lines = [re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line) for line in doc.markdown.splitlines()]  # list markers
        body = " ".join(clean_inline(line) for line in lines)
        assert _words(body) <= _words(" ".join(quoted) + " " + headings)


def test_windows_overlap_by_one_and_cover_everything():
    units = [f"s{i}" for i in range(10)]
    groups = windows(units, size=4, overlap=1)
    assert groups[0] == ["s0", "s1", "s2", "s3"]
    assert groups[1][0] == "s3"
    assert [u for g in groups for u in g if u not in sum(groups[:0], [])][-1] == "s9"
    assert set(u for g in groups for u in g) == set(units)
    assert all(len(g) <= 4 for g in groups)


def test_code_blocks_stay_whole_and_repeated_headings_get_distinct_anchors():
    markdown = "\n".join(
        [
            "## Example",
            "Run this. Then look.",
            "",
            "```python",
            "x = 1",
            "",
            "## not a heading inside code",
            "print(x)",
            "```",
            "## Example",
            "- first item",
            "- second item",
        ]
    )
    passages = chunk_document(Document("r1", "Doc", markdown))
    assert [p.anchor for p in passages] == ["example", "example_1"]
    assert "```python\nx = 1\n\n## not a heading inside code\nprint(x)\n```" in passages[0].sentences
    assert passages[0].sentences[:2] == ("Run this.", "Then look.")
    assert passages[1].sentences == ("first item", "second item")


def test_sentences_are_not_split_inside_inline_code():
    assert split_sentences('Type `name = input("Name? ")` and press Enter. Then look.') == [
        'Type `name = input("Name? ")` and press Enter.',
        "Then look.",
    ]


def test_slugify_matches_the_markdown_toc_extension():
    from markdown.extensions.toc import slugify as toc_slugify

    for title in ["= vs ==", "The arrow keys", "Practice program: Exploring the shell", "Lists & tuples (intro)"]:
        assert slugify(title) == toc_slugify(title, "-")
