"""Read an OpenStax book (CNXML modules + collection XML) into chapters of Markdown modules.

The Markdown targets what the product renders (Python-Markdown with ``fenced_code``,
``tables`` and ``sane_lists``, raw HTML off), so it avoids HTML and attribute syntax;
section ids are returned beside the text instead (``Module.sections``).

What is left out: embedded interactive exercises (``os-embed`` links: not in the release),
code-runner iframes and image files. Guided slides become a link; figures become their
caption (and, for content figures, their alt text, which describes the picture).
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

CNXML = "{http://cnx.rice.edu/cnxml}"
COLLXML = "{http://cnx.rice.edu/collxml}"
MDML = "{http://cnx.rice.edu/mdml}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"


@dataclass
class Section:
    id: str
    title: str
    level: int  # 2 for top-level sections of a module (the module title is level 1)


@dataclass
class Module:
    id: str  # "m00011"
    title: str
    markdown: str
    sections: list[Section] = field(default_factory=list)
    objectives: list[str] = field(default_factory=list)
    # (term, sentence) pairs where the book defines a key term, e.g. ("REPL", "REPL stands for ...").
    definitions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Chapter:
    number: int  # 1-based; 0 for modules placed before the first chapter (the preface)
    title: str
    modules: list[Module] = field(default_factory=list)


@dataclass
class Book:
    title: str
    licence_url: str
    chapters: list[Chapter]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------- inline content


def _inline(element: ET.Element, *, skip_text: bool = False) -> str:
    """Markdown for the mixed content of ``element`` (text, emphasis, code, links, terms...)."""
    parts = [] if skip_text else [_squash(element.text or "")]
    for child in element:
        parts.append(_inline_child(child))
        parts.append(_squash(child.tail or ""))
    return "".join(parts)


def _code_span(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline_child(child: ET.Element) -> str:
    tag = _local(child.tag)
    if tag == "emphasis":
        inner = _inline(child).strip()
        if not inner:
            return ""
        marker = "*" if child.get("effect") in ("italics", "italic") else "**"
        return f"{marker}{inner}{marker}"
    if tag == "term":
        inner = _inline(child).strip()
        return f"**{inner}**" if inner else ""
    if tag == "code":
        return _code_span(_squash(_code_text(child)))
    if tag == "link":
        if child.get("class") == "os-embed":
            return ""  # an interactive exercise that the release does not include
        text = _inline(child).strip()
        url = child.get("url", "")
        if url.startswith("http"):
            return f"[{text or url}]({url})"
        return text
    if tag == "newline":
        return " "
    if tag in ("sub", "sup"):
        inner = _inline(child).strip()
        return f"_{inner}" if tag == "sub" else f"^{inner}"
    if tag == "math":
        return _math(child)
    if tag == "media":
        return _squash(child.get("alt", ""))
    if tag in ("footnote",):
        return f" ({_inline(child).strip()})"
    return _inline(child)


def _math(element: ET.Element) -> str:
    tag = _local(element.tag)
    kids = list(element)
    if tag in ("mn", "mi", "mo", "mtext"):
        text = (element.text or "").strip()
        return f" {text} " if tag == "mo" and text not in ("(", ")") else text
    if tag == "msup" and len(kids) == 2:
        return f"{_math(kids[0])}^{_math(kids[1])}"
    if tag == "msub" and len(kids) == 2:
        return f"{_math(kids[0])}_{_math(kids[1])}"
    if tag == "mfrac" and len(kids) == 2:
        return f"({_math(kids[0])})/({_math(kids[1])})"
    if tag == "msqrt":
        return f"sqrt({''.join(_math(k) for k in kids)})"
    if tag == "mfenced":
        return "(" + ", ".join(_math(k) for k in kids) + ")"
    if tag == "mtr":
        return " | ".join(_math(k) for k in kids)
    if tag == "mtable":
        return "; ".join(_math(k) for k in kids)
    return re.sub(r" +", " ", "".join(_math(k) for k in kids))


def _code_text(element: ET.Element) -> str:
    """The literal text of a code element; ``<newline/>`` is a line break, markup is dropped."""
    parts = [element.text or ""]
    for child in element:
        tail = child.tail or ""
        if _local(child.tag) == "newline":
            parts.append("\n")
            # The source usually breaks the line after <newline/> as well: one break, not two.
            tail = re.sub(r"^[ \t]*\n", "", tail)
        else:
            parts.append(_code_text(child))
        parts.append(tail)
    return "".join(parts)


# ---------------------------------------------------------------- blocks


def _is_block_code(element: ET.Element, parent: ET.Element | None) -> bool:
    if element.get("display") == "block":
        return True
    if "inline-code" in (element.get("class") or ""):
        return False
    if parent is None or _local(parent.tag) not in ("para", "item", "entry", "caption", "title"):
        return True
    # A paragraph holding nothing but this code is a code block too.
    others = (parent.text or "").strip() or any(
        c is not element and _local(c.tag) != "newline" for c in parent
    )
    return not others and not (element.tail or "").strip()


def _fence(code: str) -> str:
    code = textwrap.dedent(code.expandtabs(4).strip("\n"))
    lines = [line.rstrip() for line in code.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    body = "\n".join(lines)
    fence = "````" if "```" in body else "```"
    return f"{fence}python\n{body}\n{fence}" if body else ""


class _Renderer:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.objectives: list[str] = []

    def blocks(self, element: ET.Element, level: int) -> list[str]:
        """Markdown blocks for the block-level children of ``element``; ``level`` is the next heading depth."""
        out: list[str] = []
        loose: list[str] = []  # inline content directly inside a block container (rare)

        def flush() -> None:
            text = "".join(loose).strip()
            if text:
                out.append(text)
            loose.clear()

        if (element.text or "").strip():
            loose.append(_squash(element.text))
        for child in element:
            rendered = self.block(child, element, level)
            if rendered is None:  # inline element among blocks
                loose.append(_inline_child(child))
            else:
                flush()
                out.extend(b for b in rendered if b.strip())
            if (child.tail or "").strip():
                loose.append(_squash(child.tail))
        flush()
        return out

    def block(self, child: ET.Element, parent: ET.Element, level: int) -> list[str] | None:
        tag = _local(child.tag)
        if tag in ("title", "metadata"):
            return []
        if tag == "para":
            return self.para(child, level)
        if tag == "section":
            return self.section(child, level)
        if tag == "list":
            return self.list(child, level)
        if tag == "code":
            if _is_block_code(child, parent):
                return [_fence(_code_text(child))]
            return None
        if tag == "note":
            return self.note(child, level)
        if tag in ("example", "exercise", "problem", "solution", "commentary", "div", "content"):
            title = child.find(f"{CNXML}title")
            head = [f"{'#' * min(level, 6)} {_inline(title).strip()}"] if title is not None and tag == "example" else []
            if title is not None and tag != "example":
                head = [f"**{_inline(title).strip()}**"]
            return head + self.blocks(child, level + 1)
        if tag == "figure":
            return [self.figure(child)]
        if tag == "media":
            return self.media(child)
        if tag == "table":
            return [self.table(child)]
        if tag == "equation":
            return [_squash(" ".join(_math(m) if _local(m.tag) == "math" else _inline(m) for m in child)).strip()]
        return None

    def para(self, para: ET.Element, level: int) -> list[str]:
        out: list[str] = []
        current: list[str] = [_squash(para.text or "")]
        for child in para:
            if _local(child.tag) == "code" and _is_block_code(child, para):
                out.append("".join(current).strip())
                out.append(_fence(_code_text(child)))
                current = []
            elif _local(child.tag) in ("list", "figure", "table"):
                out.append("".join(current).strip())
                out.extend(self.block(child, para, level) or [])
                current = []
            else:
                current.append(_inline_child(child))
            current.append(_squash(child.tail or ""))
        out.append("".join(current).strip())
        return [b for b in out if b]

    def section(self, section: ET.Element, level: int) -> list[str]:
        title_el = section.find(f"{CNXML}title")
        title = _inline(title_el).strip() if title_el is not None else ""
        is_objectives = "learning-objectives" in (section.get("class") or "") or title.lower() == "learning objectives"
        if is_objectives:
            title = "Learning objectives"
            self.objectives.extend(
                _inline(item).strip() for item in section.iter(f"{CNXML}item") if _inline(item).strip()
            )
        if title:
            self.sections.append(Section(id=section.get("id", ""), title=title, level=level))
        heading = [f"{'#' * min(level, 6)} {title}"] if title else []
        return heading + self.blocks(section, level + 1)

    def list(self, element: ET.Element, level: int) -> list[str]:
        ordered = element.get("list-type") == "enumerated"
        lines: list[str] = []
        out: list[str] = []
        title = element.find(f"{CNXML}title")
        if title is not None:
            out.append(f"**{_inline(title).strip()}**")
        for number, item in enumerate(element.findall(f"{CNXML}item"), start=1):
            marker = f"{number}." if ordered else "-"
            inline_parts = [_squash(item.text or "")]
            trailing: list[str] = []
            for child in item:
                tag = _local(child.tag)
                if tag == "list":
                    nested = self.list(child, level)
                    trailing.extend("    " + line for block in nested for line in block.splitlines())
                elif (tag == "code" and _is_block_code(child, item)) or tag in ("para", "figure", "table", "note"):
                    # Python-Markdown cannot nest fenced code in a list item: close the list around it.
                    rendered = self.block(child, item, level) or []
                    if tag == "para" and len(rendered) == 1 and not rendered[0].startswith("```"):
                        inline_parts.append(" " + rendered[0])
                    else:
                        trailing.append("\n\n" + "\n\n".join(rendered) + "\n\n")
                else:
                    inline_parts.append(_inline_child(child))
                inline_parts.append(_squash(child.tail or ""))
            lines.append(f"{marker} {''.join(inline_parts).strip()}")
            for extra in trailing:
                if extra.startswith("\n"):
                    out.append("\n".join(lines))
                    out.append(extra.strip())
                    lines = []
                else:
                    lines.append(extra)
        if lines:
            out.append("\n".join(lines))
        return out

    def note(self, note: ET.Element, level: int) -> list[str]:
        kind = note.get("class") or ""
        title_el = note.find(f"{CNXML}title")
        title = _inline(title_el).strip() if title_el is not None else ""
        if kind == "learning-questions":
            return []  # only embedded exercises, which the release does not include
        if kind == "guided-slides":
            for iframe in note.iter(f"{CNXML}iframe"):
                src = iframe.get("src", "")
                if src.startswith("http"):
                    return [f"*Animation:* [{title or 'guided slides'}]({src})"]
            return []
        label = {"practice-program": "Practice program"}.get(kind, "")
        heading = f"{label}: {title}" if label and title else (title or label or "Note")
        return [f"{'#' * min(level, 6)} {heading}"] + self.blocks(note, level + 1)

    def figure(self, figure: ET.Element) -> str:
        caption_el = figure.find(f"{CNXML}caption")
        caption = _inline(caption_el).strip() if caption_el is not None else ""
        media = figure.find(f"{CNXML}media")
        alt = _squash(media.get("alt", "")).strip() if media is not None else ""
        if "splash" in (figure.get("class") or ""):
            return f"*{caption}*" if caption else ""
        parts = [f"*Figure: {alt}*" if alt else "*Figure*"]
        if caption:
            parts.append(caption)
        return " — ".join(parts)

    def media(self, media: ET.Element) -> list[str]:
        if media.find(f"{CNXML}image") is not None and media.get("alt"):
            return [f"*Image: {_squash(media.get('alt')).strip()}*"]
        return []

    def table(self, table: ET.Element) -> str:
        rows: list[list[str]] = []
        header: list[str] | None = None
        for group in table.iter(f"{CNXML}tgroup"):
            thead = group.find(f"{CNXML}thead")
            if thead is not None:
                for row in thead.findall(f"{CNXML}row"):
                    header = [self.cell(e) for e in row.findall(f"{CNXML}entry")]
            tbody = group.find(f"{CNXML}tbody")
            for row in (tbody if tbody is not None else group).findall(f"{CNXML}row"):
                rows.append([self.cell(e) for e in row.findall(f"{CNXML}entry")])
        if header is None:
            if not rows:
                return ""
            header, rows = rows[0], rows[1:]
        width = max([len(header), *(len(r) for r in rows)])
        lines = []
        title = table.find(f"{CNXML}title")
        if title is not None and _inline(title).strip():
            lines.append(f"**{_inline(title).strip()}**\n")
        for i, row in enumerate([header, *rows]):
            row = row + [""] * (width - len(row))
            lines.append("| " + " | ".join(row) + " |")
            if i == 0:
                lines.append("|" + "---|" * width)
        caption = table.find(f"{CNXML}caption")
        if caption is not None and _inline(caption).strip():
            lines.append(f"\n*{_inline(caption).strip()}*")
        return "\n".join(lines)

    def cell(self, entry: ET.Element) -> str:
        pieces = []
        for block in self.blocks(entry, 6):
            if block.startswith("```"):
                code = block.split("\n", 1)[1].rsplit("\n", 1)[0]
                pieces.append(_code_span(" ; ".join(line.strip() for line in code.splitlines() if line.strip())))
            else:
                pieces.append(_squash(block))
        return " ".join(pieces).replace("|", "\\|").strip()


# ---------------------------------------------------------------- modules and the book


def read_module(path: str | Path) -> Module:
    """Convert one ``index.cnxml`` (or its folder) to a ``Module`` with Markdown text."""
    path = Path(path)
    if path.is_dir():
        path = path / "index.cnxml"
    root = ET.parse(path).getroot()
    module_id = (root.findtext(f"{CNXML}metadata/{MDML}content-id") or path.parent.name).strip()
    title = _squash(root.findtext(f"{CNXML}title") or "").strip()
    renderer = _Renderer()
    content = root.find(f"{CNXML}content")
    blocks = renderer.blocks(content, level=2) if content is not None else []
    markdown = "\n\n".join(b.strip("\n") for b in blocks if b.strip()) + "\n"
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return Module(
        id=module_id,
        title=title,
        markdown=markdown,
        sections=renderer.sections,
        objectives=renderer.objectives,
        definitions=definitions(markdown),
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*`])")
_DEFINING = r"\s*(?:\([^)]*\)\s*)?(?:is|are|stands for|refers to|means)\b"


def definitions(markdown: str) -> list[tuple[str, str]]:
    """Sentences in which the book defines a bold key term: "A **variable** is a name ...".

    Only prose paragraphs are read (not code, lists, tables or headings), and a sentence
    counts when the bold term is followed by a defining verb.
    """
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    in_code = False
    for block in markdown.split("\n\n"):
        if block.startswith("```"):
            in_code = not block.rstrip().endswith("```") or block.strip() == "```"
            continue
        if in_code or block.startswith(("#", "-", "|", ">", "1.")):
            continue
        for sentence in _SENTENCE_END.split(block.replace("\n", " ")):
            for match in re.finditer(r"\*\*([^*]{2,40})\*\*", sentence):
                term = match.group(1).strip()
                rest = sentence[match.end():]
                if term.lower() in seen or not re.match(_DEFINING, rest):
                    continue
                plain = re.sub(r"\*\*([^*]+)\*\*", r"\1", sentence).strip().rstrip(":,;")
                plain = plain if plain.endswith((".", "!", "?")) else plain + "."
                if 30 <= len(plain) <= 400:
                    found.append((term, plain))
                    seen.add(term.lower())
    return found


def read_book(root: str | Path) -> Book:
    """Read the whole book: chapter order and titles from ``collections/*.xml``, text from ``modules/``."""
    root = Path(root)
    collections = sorted((root / "collections").glob("*.xml"))
    if not collections:
        raise FileNotFoundError(f"No collection XML under {root / 'collections'}")
    tree = ET.parse(collections[0]).getroot()
    title = (tree.findtext(f"{COLLXML}metadata/{MDML}title") or "").strip()
    licence = tree.find(f"{COLLXML}metadata/{MDML}license")
    chapters: list[Chapter] = []
    front = Chapter(number=0, title="Front matter")
    content = tree.find(f"{COLLXML}content")
    for node in content if content is not None else []:
        tag = _local(node.tag)
        if tag == "module":
            target = chapters[-1] if chapters else front
            target.modules.append(read_module(root / "modules" / node.get("document") / "index.cnxml"))
        elif tag == "subcollection":
            chapter = Chapter(number=len(chapters) + 1, title=(node.findtext(f"{MDML}title") or "").strip())
            for module in node.iter(f"{COLLXML}module"):
                chapter.modules.append(read_module(root / "modules" / module.get("document") / "index.cnxml"))
            chapters.append(chapter)
    if front.modules:
        chapters.insert(0, front)
    return Book(title=title, licence_url=licence.get("url", "") if licence is not None else "", chapters=chapters)
