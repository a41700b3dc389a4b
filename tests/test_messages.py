"""tipoff.messages.Message: Chinese where it arises, the reader's language where it is shown."""
from __future__ import annotations

import ast
import json
import pickle
import re
from pathlib import Path

import pytest

from tipoff.messages import Message, as_message

ROOT = Path(__file__).resolve().parents[1]


def test_a_message_is_its_chinese_text_and_keeps_what_made_it():
    field = Message("地址")
    message = Message("%(field)s最多 %(maximum)s 个字（现在 %(length)s 个）。", field=field, maximum=300, length=412)
    assert message == "地址最多 300 个字（现在 412 个）。"
    assert message.msgid == "%(field)s最多 %(maximum)s 个字（现在 %(length)s 个）。"
    assert message.params == {"field": field, "maximum": 300, "length": 412}
    # What services do with it on the way to a page must not lose it ...
    assert str(ValueError(message)) is message and f"{message}" == message
    assert isinstance(str(ValueError(message)), Message)
    assert pickle.loads(pickle.dumps(message)).params == message.params
    # ... and the JSON API sees the Chinese text.
    assert json.dumps({"m": message}, ensure_ascii=False) == '{"m": "地址最多 300 个字（现在 412 个）。"}'
    assert Message("100%") == "100%"  # no parameters: the msgid is not a format
    assert as_message("姓名").msgid == "姓名" and as_message(field) is field


def _message_ids() -> list[tuple[str, str]]:
    """Every Message("…") literal in tipoff/, with where it is."""
    found = []
    for path in sorted((ROOT / "tipoff").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Message"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.append((node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


MESSAGE_IDS = _message_ids()


def test_the_code_has_messages_to_check():
    assert len(MESSAGE_IDS) > 40


@pytest.mark.parametrize("msgid, where", MESSAGE_IDS, ids=[where for _, where in MESSAGE_IDS])
def test_every_message_has_english_with_the_same_parameters(english, msgid, where):
    assert english.get(msgid), f"{where}: no English for {msgid!r} (make translations-update, then translate it)"
    assert set(re.findall(r"%\((\w+)\)s", english[msgid])) == set(re.findall(r"%\((\w+)\)s", msgid)), where
