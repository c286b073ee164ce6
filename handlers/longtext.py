"""Splitting a message that is longer than Telegram allows into several that fit.

Telegram refuses a text over 4096 characters (counted after HTML is parsed, in UTF-16 units).
`split_message` cuts at the last line break that fits, else the last space, else mid-word, and
never inside a tag or an HTML entity. Tags open at a cut are closed at the end of one part and
opened again at the start of the next, so every part is valid HTML on its own.
"""

from __future__ import annotations

import re

MAX_MESSAGE = 4096

_ATOM = re.compile(r"<[^>]*>|&#?[A-Za-z0-9]+;|[\s\S]", re.ASCII)
_TAG = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9-]*)")


def _size(atom: str) -> int:
    """What an atom counts for in Telegram's limit: tags nothing, an entity one character."""
    if atom.startswith("<") and atom.endswith(">") and len(atom) > 1:
        return 0
    if atom.startswith("&") and len(atom) > 1:
        return 1
    return len(atom.encode("utf-16-le")) // 2


def _apply(atom: str, stack: list[tuple[str, str]]) -> None:
    """Track open tags: (name, opening tag as written)."""
    match = _TAG.match(atom) if atom.startswith("<") else None
    if match is None or atom.endswith("/>"):
        return
    closing, name = match.group(1), match.group(2).lower()
    if not closing:
        stack.append((name, atom))
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            del stack[index:]
            return


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _opening(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """`text` as one or more parts, each within `limit`. Short texts come back unchanged."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return [text]  # tags and entities only count for less than they are written with
    atoms = _ATOM.findall(text)
    if sum(map(_size, atoms)) <= limit:
        return [text]
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    start = 0
    while start < len(atoms):
        opened = list(stack)  # the tags still open from the previous part
        used, end = 0, start
        last_newline = last_space = -1
        newline_at = 0  # how much of the part comes before the last line break
        while end < len(atoms) and used + _size(atoms[end]) <= limit:
            atom = atoms[end]
            if atom == "\n":
                last_newline, newline_at = end, used
            elif atom.isspace():
                last_space = end
            used += _size(atom)
            end += 1
        skip = 0
        if end < len(atoms):  # the rest does not fit: cut at the best place within this part
            # A line break, unless it would leave this part less than half full; then a space.
            cut = last_newline if newline_at >= limit // 2 else max(last_newline, last_space)
            if cut > start:
                end, skip = cut, 1  # the line break or space itself is dropped at the cut
        end = max(end, start + 1)  # always move on, even with an absurdly small limit
        body = atoms[start:end]
        stack = list(opened)
        for atom in body:
            _apply(atom, stack)
        if "".join(body).strip():
            parts.append(_opening(opened) + "".join(body) + _closing(stack))
        start = end + skip
    return parts
