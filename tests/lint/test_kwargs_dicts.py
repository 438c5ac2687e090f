"""`**params` built in the same function is read as if its keys were written out."""

from __future__ import annotations

HEAD = "from openai import OpenAI\nimport litellm\nclient = OpenAI(api_key=KEY)\n"


def test_literal_dict_with_metadata(lint):
    src = HEAD + """
def go():
    params = {"model": "gpt-4o", "messages": [], "metadata": {"ticket_id": t, "customer_id": c, "agent_id": "a"}}
    return client.chat.completions.create(**params)
"""
    assert lint(src) == []


def test_literal_dict_without_metadata(lint):
    src = HEAD + """
def go():
    params = {"model": "gpt-4o", "messages": []}
    return client.chat.completions.create(**params)
"""
    assert lint(src) == [("ATR001", 7)]


def test_dict_call_and_subscript_assignment(lint):
    src = HEAD + """
def go():
    params = dict(model="gpt-4o", messages=[])
    params["metadata"] = {"ticket_id": t}
    return litellm.completion(**params)
"""
    assert lint(src) == [("ATR002", 8)]


def test_update_with_keywords_and_dict(lint):
    src = HEAD + """
def go():
    params = {"model": "gpt-4o"}
    params.update(messages=[])
    params.update({"metadata": {"ticket_id": t, "customer_id": c, "agent_id": "a"}})
    return client.chat.completions.create(**params)
"""
    assert lint(src) == []


def test_conditional_additions_count(lint):
    src = HEAD + """
def go(stream):
    kwargs = {"model": "gpt-4o", "messages": []}
    if stream:
        kwargs["stream"] = True
    else:
        kwargs["metadata"] = {"ticket_id": t, "customer_id": c, "agent_id": "a"}
    return client.chat.completions.create(**kwargs)
"""
    assert lint(src) == []


def test_or_assign_and_metadata_name(lint):
    src = HEAD + """
def go():
    meta = {"ticket_id": t}
    meta |= {"customer_id": c, "agent_id": "a"}
    params = {"model": "m", "metadata": meta}
    return litellm.completion(**params)
"""
    assert lint(src) == []


def test_placeholder_in_kwargs_dict(lint):
    src = HEAD + """
params = {"model": "m", "metadata": {"ticket_id": "TODO", "customer_id": c, "agent_id": "a"}}
litellm.completion(**params)
"""
    assert lint(src) == [("ATR004", 5)]


def test_unresolvable_is_reported_by_default(lint):
    src = HEAD + """
def go():
    params = build_params()
    return client.chat.completions.create(**params)
"""
    assert lint(src) == [("ATR008", 7)]
    assert lint(src, strict=True) == [("ATR008", 7)]


def test_unresolvable_update_is_reported_by_default(lint):
    src = HEAD + """
def go(extra):
    params = {"model": "m"}
    params.update(extra)
    return client.chat.completions.create(**params)
"""
    assert lint(src) == [("ATR008", 8)]
