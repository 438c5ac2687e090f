"""Files written for a newer Python than the one running attrlint: the syntax the interpreter
lacks is rewritten in place, by a scan of the text or else with libcst's grammar, and every
call keeps its line and column. The rewrites are plain text, so they are tested on any
interpreter."""

from __future__ import annotations

import ast

import pytest

from attrlint.lint import source
from attrlint.lint.source import _by_scan, _for_this_interpreter

CALL = 'client.chat.completions.create(model="m", messages=[])'

# (newer syntax, then a call whose position must not move)
CASES = {
    "nested quotes (PEP 701)": 'label = f"{q["text"]!r}"\n',
    "conversion then spaces": 'label = f"{3!s  }"\n',
    "format spec with fields": 'label = f"{x:{width}.{precision}}" + f\'{y!r:>10}\'\n',
    "a field over lines": 'total = f"{(\n    1 +\n    2\n)}"\n',
    "a short last line": 'total = f"{\nx\n}"\n',
    "a comment in a field": 'total = f"""{\n    x  # the count\n}"""\n',
    "nested f-strings": 'deep = f"{f"{f"{1}"}"}"\n',
    "a t-string (PEP 750)": 'page = t"<p>{name}</p>"\n',
    "type parameters (PEP 695)": "def first[T: (int, str) = int](items: list[T]) -> T:\n    return items[0]\n",
    "a generic class": "class Box[T, *Ts, **P]:\n    pass\n",
    "a type statement": "type Pair[K] = tuple[\n    K,\n    K,\n]\n",
    "except without parentheses (PEP 758)": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
    "a quote in a comment": "# don't f'{ stop here\nx = 1\n",
}


def call_position(text: str) -> tuple[int, int]:
    tree = ast.parse(text)
    [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "create"]
    return call.lineno, call.col_offset


@pytest.mark.parametrize("rewrite", [_by_scan, _for_this_interpreter], ids=["scan", "libcst"])
@pytest.mark.parametrize("snippet", list(CASES.values()), ids=list(CASES))
def test_rewrites_keep_every_line_and_the_call_in_place(rewrite, snippet):
    text = snippet + CALL + "\n"
    rewritten = rewrite(text)
    if snippet.startswith("#"):
        assert rewritten is None  # nothing newer: nothing to rewrite
        return
    assert rewritten is not None
    assert rewritten.count("\n") == text.count("\n")
    assert call_position(rewritten) == (text.count("\n"), 0)
    for before, after in zip(text.splitlines(), rewritten.splitlines()):
        if "except" not in before:  # the one rewrite that adds characters: `(` and `)`
            assert len(before) == len(after)


def test_both_rewrites_give_the_same_tree():
    text = "".join(CASES.values()) + CALL + "\n"
    by_scan, by_libcst = _by_scan(text), _for_this_interpreter(text)
    assert by_scan is not None and by_libcst is not None
    assert ast.dump(ast.parse(by_scan), include_attributes=True) == \
        ast.dump(ast.parse(by_libcst), include_attributes=True)


def test_what_the_scan_cannot_rewrite_goes_to_libcst(monkeypatch):
    text = CASES["nested quotes (PEP 701)"] + CASES["type parameters (PEP 695)"] + CALL + "\n"
    monkeypatch.setattr(source, "_by_scan", lambda text: None)
    monkeypatch.setattr(source.ast, "parse", _strict_parse(source.ast.parse))
    tree = source.parse(text)
    assert any(isinstance(n, ast.Call) for n in ast.walk(tree))


def test_an_unterminated_string_is_left_to_the_parsers():
    assert _by_scan('x = f"{a\ny = 1\n') is None


def _strict_parse(parse):
    """ast.parse that rejects the newer syntax on every interpreter, as 3.11 does."""

    def strict(text, *args, **kwargs):
        if 'f"{q["' in text or "def first[" in text:
            raise SyntaxError("newer syntax")
        return parse(text, *args, **kwargs)

    return strict


@pytest.mark.parametrize("snippet", [
    "try:\n    pass\nexcept* ValueError:\n    pass\n",
    "def f(*args: *Ts) -> tuple[int, *Ts]:\n    return args\n",
    "Shape = Array[*Batch, Height]\n",
], ids=["except* (PEP 654)", "star annotations (PEP 646)", "star in a subscript"])
def test_the_scan_reads_python_3_11_syntax_for_3_10(snippet):
    text = "x = f'{a!r}'\n" + snippet + CALL + "\n"  # an f-string, so the scan has a reason to run
    rewritten = _by_scan(text)
    assert rewritten is not None and "*T" not in rewritten.replace("**", "") and "except*" not in rewritten
    assert [len(line) for line in rewritten.splitlines()] == [len(line) for line in text.splitlines()]
    assert call_position(rewritten) == (text.count("\n"), 0)


def test_stars_that_change_nothing_stay():
    # a bare `*` in parameters, multiplication, `**` and call unpacking keep their stars; in a
    # list display the star goes too, which changes no name or call the analysis reads
    text = "x = f'{a!r}'\ndef f(a, *, b):\n    return [*a, 2 * b, x ** 2], g(*args, **kwargs)\n"
    rewritten = _by_scan(text)
    assert rewritten is not None
    assert rewritten.splitlines()[1:] == ["def f(a, *, b):", "    return [ a, 2 * b, x ** 2], g(*args, **kwargs)"]
    ast.parse(rewritten)
