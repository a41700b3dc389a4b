"""Words for the person reading a page, written in Chinese where they arise, put into their language where shown.

Pure code (validators, services) raises and returns `Message`s: a `str` whose value is the Chinese text,
which is what logs, tests and the JSON API see, and which keeps its msgid and parameters, so that a page
can show it in the reader's language (`tipoff.web`'s `problems` filter looks the msgid up in the catalogue
and formats it there). `make translations-update` extracts `Message("…")` as it does `_("…")`.

    raise ValueError(Message("%(field)s最多 %(maximum)s 个字（现在 %(length)s 个）。",
                             field=Message("地址"), maximum=300, length=412))

A parameter that is itself a Message is translated too; any other parameter (a number, what the person
typed) is shown as it is. No Flask here: this module is imported by the pure cores.
"""
from __future__ import annotations

from typing import Any


class Message(str):
    """A Chinese message that remembers its msgid and parameters (see the module's docstring)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> "Message":
        text = msgid % params if params else msgid
        message = super().__new__(cls, text)
        message.msgid, message.params = msgid, params
        return message

    def __str__(self) -> "Message":
        # str(ValueError(message)) and a bare f"{message}" keep the Message, so the page that shows it can
        # translate it; anything that adds text to it (concatenation, a longer f-string) makes a plain str.
        return self

    def __reduce__(self):
        return _rebuild, (self.msgid, self.params)


def _rebuild(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def as_message(text: str) -> Message:
    """`text` as a Message (a plain string becomes its own msgid, looked up as it is)."""
    return text if isinstance(text, Message) else Message(text)
