"""Refusal reasons: English for logs and the CLI, translated in the console, every key present in Chinese."""

from __future__ import annotations

import pickle
import re

from agent_console.core.reasons import ENGLISH, Reason
from agent_console.support.i18n import Translator, _table
from tests.conftest import sample_case


def test_every_reason_has_chinese_words_with_the_same_placeholders() -> None:
    zh = _table("zh")
    for key, english in ENGLISH.items():
        text = zh.get(f"refusal.{key}")
        assert text, f"refusal.{key} missing in locale/zh"
        fields = r"{(\w+)(?:![rsa])?(?::[^}]*)?}"  # a field with or without a conversion (!r) or format spec
        assert set(re.findall(fields, text)) == set(re.findall(fields, english)), key


def test_a_reason_is_its_english_sentence_and_translates() -> None:
    why = Reason("status", status="investigating")
    assert why == "not possible while the case is investigating"
    assert pickle.loads(pickle.dumps(why)).key == "status"
    assert Translator("zh").reason(why) == "案件当前为“处理中”，不能执行此操作"
    assert Translator("en").reason(why) == "not possible while the case is Investigating"
    ceiling = Reason("extension_ceiling", ceiling=10, unit="working_days", granted="5")
    assert Translator("zh").reason(ceiling) == "延期累计最多 10 个工作日，已批准 5"
    assert Translator("zh").reason(ValueError(Reason("lead_only"))) == "仅班长可执行"
    assert Translator("zh").reason(ValueError("plain text")) == "plain text"


def test_the_lifecycle_refuses_with_reasons(ws) -> None:
    from agent_console.core.lifecycle import IllegalTransition

    case = ws.register(sample_case())
    try:
        ws.act(case.id, "resumed", {})
    except IllegalTransition as exc:
        assert isinstance(exc.reason, Reason) and exc.reason.key == "not_paused"
    else:
        raise AssertionError("resuming a running case must be refused")
