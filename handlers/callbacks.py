"""The one codec for callback_data: "area:action:arg", at most 64 bytes.

Every inline button in the bot is built with `encode` and every CallbackQueryHandler matches
with `pattern`, so a button and its handler can never drift apart. Decoding is strict: anything
that is not exactly three well-formed parts is treated as unknown, never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_PART = re.compile(r"^[a-z][a-z0-9_]*$")
# Every id the bot puts in a button fits a 64-bit column, so a bigger number can only be
# forged, and would overflow the database if it reached a query. Matching refuses 20 digits or
# more; decoding also refuses a 19-digit number beyond the 64-bit range.
_NO_HUGE_NUMBER = r"(?!.*\d{20})"
_ARG = re.compile(rf"^{_NO_HUGE_NUMBER}[A-Za-z0-9_+\-./]*$")
_LONG_NUMBER = re.compile(r"\d{19,}")
_MAX_ID = 2**63 - 1


def _fits(arg: str) -> bool:
    return all(int(number) <= _MAX_ID for number in _LONG_NUMBER.findall(arg))


@dataclass(frozen=True, slots=True)
class Callback:
    area: str
    action: str
    arg: str = ""


class CallbackDataError(ValueError):
    pass


def encode(area: str, action: str, arg: object = "") -> str:
    arg = str(arg)
    if not _PART.match(area) or not _PART.match(action) or not _ARG.match(arg) or not _fits(arg):
        raise CallbackDataError(f"bad callback parts: {area!r}, {action!r}, {arg!r}")
    data = f"{area}:{action}:{arg}"
    if len(data.encode()) > MAX_BYTES:
        raise CallbackDataError(f"callback_data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) != 3:
        return None
    area, action, arg = parts
    if not _PART.match(area) or not _PART.match(action) or not _ARG.match(arg) or not _fits(arg):
        return None
    return Callback(area, action, arg)


def pattern(area: str, action: str | None = None) -> re.Pattern[str]:
    """A regex for CallbackQueryHandler matching one area, or one action within it."""
    if action is None:
        return re.compile(
            rf"^{re.escape(area)}:[a-z][a-z0-9_]*:{_NO_HUGE_NUMBER}[A-Za-z0-9_+\-./]*$"
        )
    return re.compile(
        rf"^{re.escape(area)}:{re.escape(action)}:{_NO_HUGE_NUMBER}[A-Za-z0-9_+\-./]*$"
    )
