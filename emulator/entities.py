"""Telegram's HTML formatting, parsed the way Telegram parses it.

The bot sends HTML; Telegram turns it into plain text plus entities (offsets and lengths in
UTF-16 code units) or answers "can't parse entities". This module reproduces both outcomes so
a formatting bug fails in a test, and also marks the /commands and @mentions in what users type.
It knows nothing about HTTP or the Bot API's error answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" reason, worded like Telegram's."""


class ParsedText(NamedTuple):
    """What a person sees (``text``) and the Bot API entities laid over it."""

    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "tg-emoji",
        "span",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_SPACE = frozenset(" \t\r\n\v\f")
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAMED_ENTITY_RE = re.compile(r"&[A-Za-z][A-Za-z0-9]*;")
_PLAIN_RUN = re.compile(r"[^<&]+")


def _decode_html_entity(src: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at ``src[pos] == "&"`` the way Telegram does, or None if it is not one.

    As in Telegram, the trailing ``;`` is optional and invalid references stay literal text.
    """
    end = pos + 1
    n = len(src)
    if end < n and src[end] == "#":
        end += 1
        base, digits = 10, "0123456789"
        if end < n and src[end] == "x":
            end += 1
            base, digits = 16, "0123456789abcdefABCDEF"
        value = 0
        while end < n and src[end] in digits:
            value = value * base + int(src[end], 16)
            end += 1
            if value >= 0x10FFFF:
                return None
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and src[end].isascii() and src[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(src[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and src[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the output where the tag's content starts
    begin: int  # byte offset of "<" in the source, for messages


class _HtmlParser:
    """A port of Telegram's parser for its HTML subset (tdlib ``parse_html``)."""

    def __init__(self, source: str):
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.entities: list[dict[str, Any]] = []
        self.open: list[_OpenTag] = []

    def parse(self) -> ParsedText:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "<":
                self._tag()
            elif char == "&":
                self._entity()
            else:  # a run of plain text up to the next tag or entity, at once
                match = _PLAIN_RUN.match(self.src, self.pos)
                assert match is not None  # `char` itself is plain
                self._emit(match.group())
                self.pos = match.end()
        if self.open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def _byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8", "surrogatepass"))

    def _fail(self, message: str, index: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {self._byte_offset(index)}")

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def _entity(self) -> None:
        decoded = _decode_html_entity(self.src, self.pos)
        if decoded is not None:
            self._emit(decoded[0])
            self.pos = decoded[1]
            return
        named = _NAMED_ENTITY_RE.match(self.src, self.pos)
        if named:
            raise self._fail(f'Unsupported HTML entity "{named.group()}"', self.pos)
        self._emit("&")
        self.pos += 1

    def _skip_spaces(self, i: int) -> int:
        while i < len(self.src) and self.src[i] in _HTML_SPACE:
            i += 1
        return i

    def _tag(self) -> None:
        src, begin = self.src, self.pos
        n = len(src)
        i = begin + 1
        if i < n and src[i] == "/":
            self._end_tag(begin)
            return
        while i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            i += 1
        if i >= n:
            raise self._fail("Unclosed start tag", begin)
        name = src[begin + 1 : i].lower()
        if name not in _HTML_TAGS:
            raise self._fail(f'Unsupported start tag "{name}"', begin)
        attrs: dict[str, str] = {}
        while True:
            i = self._skip_spaces(i)
            if i >= n:
                raise self._fail(f'Unclosed start tag "{name}"', begin)
            if src[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and src[i] not in _HTML_SPACE and src[i] not in "=>":
                i += 1
            attr = src[attr_begin:i].lower()
            if not attr:
                raise self._fail(f'Empty attribute name in the tag "{name}"', begin)
            i = self._skip_spaces(i)
            if i >= n or src[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                if i >= n:
                    raise self._fail(f'Unclosed start tag "{name}"', begin)
                raise self._fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"',
                    begin,
                )
            i = self._skip_spaces(i + 1)
            if i >= n:
                raise self._fail(f'Unclosed start tag "{name}"', begin)
            value, i = self._attribute_value(i, begin)
            attrs.setdefault(attr, value)
        self.pos = i
        self.open.append(_OpenTag(name, self._argument(name, attrs, begin), self.utf16, begin))

    def _attribute_value(self, i: int, begin: int) -> tuple[str, int]:
        src, n = self.src, len(self.src)
        if src[i] in "\"'":
            quote = src[i]
            i += 1
            chars: list[str] = []
            while i < n and src[i] != quote:
                decoded = _decode_html_entity(src, i) if src[i] == "&" else None
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                else:
                    chars.append(src[i])
                    i += 1
            if i >= n:
                raise self._fail("Unclosed start tag", begin)
            return "".join(chars), i + 1
        token_begin = i
        while i < n and src[i].isascii() and (src[i].isalnum() or src[i] in ".-"):
            i += 1
        if i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            raise self._fail("Unexpected end of name token", token_begin)
        return src[token_begin:i].lower(), i

    def _argument(self, name: str, attrs: dict[str, str], begin: int) -> str:
        if name == "a":
            if "href" not in attrs:
                raise self._fail('Tag "a" must have attribute "href"', begin)
            return attrs["href"]
        if name == "code":
            css = attrs.get("class", "")
            return css.removeprefix("language-") if css.startswith("language-") else ""
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self._fail('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji":
            return attrs.get("emoji-id", "")
        if name == "blockquote":
            return "expandable" if "expandable" in attrs else ""
        return ""

    def _end_tag(self, begin: int) -> None:
        src, n = self.src, len(self.src)
        if not self.open:
            raise self._fail("Unexpected end tag", begin)
        i = begin + 2
        while i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i]
        i = self._skip_spaces(i)
        if i >= n or src[i] != ">":
            raise self._fail("Unclosed end tag", begin)
        top = self.open.pop()
        if end_name and end_name.lower() != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        self.pos = i + 1
        self._close(top)

    def _close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {"offset": tag.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and (last["offset"], last["length"]) == (tag.offset, length)
        if tag.name in _SIMPLE_ENTITY:
            entity["type"] = _SIMPLE_ENTITY[tag.name]
        elif tag.name == "a":
            entity.update(type="text_link", url=tag.argument)
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "pre":
            if last is not None and same_range and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif tag.name == "code":
            if last is not None and same_range and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity["type"] = "code"
            if tag.argument:
                entity["language"] = tag.argument  # kept only if a <pre> wraps it
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        self.entities.append(entity)


def parse_html(text: str) -> ParsedText:
    """Parse Telegram's HTML subset; raise EntityParseError where Telegram would answer 400."""
    return _HtmlParser(text).parse()


def html_to_plain(text: str) -> str:
    """The text a person sees for an HTML-formatted message (for the console chat)."""
    return parse_html(text).text


_COMMAND_OR_MENTION = re.compile(
    r"(?P<bot_command>(?<![\w/])/\w{1,64}(?:@\w{3,32})?)|(?P<mention>(?<![\w@])@\w{3,32})",
    re.ASCII,
)


def commands_and_mentions(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, matched text, entity) for each /command and @mention, as Telegram marks them."""
    found = []
    for match in _COMMAND_OR_MENTION.finditer(text):
        kind = match.lastgroup or ""
        entity = {
            "type": kind,
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        found.append((kind, match.group(), entity))
    return found
