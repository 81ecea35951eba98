"""Issue 14 (fast loops): what the main process defers or does once, and that no check is lost by it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalpipe import filehash, safeyaml


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_rfc3987_syntax_is_built_only_when_an_iri_is_checked():
    out = _python(
        "import sys, evalpipe, jsonschema, nbformat\n"
        "loaded = lambda: 'rfc3987_syntax.syntax_helpers' in sys.modules\n"
        "before = loaded()\n"
        "check = jsonschema.FormatChecker()\n"
        "print(before, check.conforms('http://example.org/año', 'iri'), check.conforms('not an iri', 'iri'),\n"
        "      check.conforms('#part', 'iri-reference'), loaded())\n"
        "import rfc3987_syntax\n"
        "print(rfc3987_syntax.is_valid_syntax_iri('https://example.org/x'), rfc3987_syntax.RFC3987_SYNTAX_PARSER_TYPE)")
    assert out.splitlines() == ["False True False True True", "True earley"]


def test_the_stand_in_is_not_installed_over_an_imported_module():
    out = _python("import rfc3987_syntax, evalpipe.deferred as d; print(d.defer_rfc3987_syntax(), "
                  "hasattr(rfc3987_syntax, 'syntax_parser'))")
    assert out == "False True"


def test_a_settled_file_is_hashed_once(tmp_path, monkeypatch):
    monkeypatch.setattr(filehash, "SETTLED_NS", 0)  # instead of waiting 2 s
    path = tmp_path / "a.csv"
    path.write_text("x,1\n")
    time.sleep(0.01)
    filehash.forget()
    expected = filehash.hashlib.sha256(b"x,1\n").hexdigest()
    assert filehash.file_sha256(path) == expected
    reads = []
    real = filehash.hashlib.file_digest
    monkeypatch.setattr(filehash.hashlib, "file_digest", lambda *a: reads.append(a) or real(*a))
    assert filehash.file_sha256(path) == expected
    assert reads == []


def test_a_rewrite_of_the_same_size_and_time_is_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(filehash, "SETTLED_NS", 0)
    path = tmp_path / "a.csv"
    path.write_text("x,1\n")
    time.sleep(0.01)
    filehash.forget()
    first = filehash.file_sha256(path)
    assert str(path) in filehash._MEMO
    stat = path.stat()
    path.write_text("x,2\n")  # same size; the modification time is put back as a coarse clock could leave it
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert filehash.file_sha256(path) == filehash.hashlib.sha256(b"x,2\n").hexdigest() != first


def test_a_file_written_just_now_is_not_remembered(tmp_path, monkeypatch):
    path = tmp_path / "fresh.csv"
    path.write_text("x,1\n")
    filehash.forget()
    filehash.file_sha256(path)
    assert str(path) not in filehash._MEMO
    monkeypatch.setattr(filehash, "SETTLED_NS", 0)  # as if 2 s had passed
    time.sleep(0.01)
    filehash.file_sha256(path)
    assert str(path) in filehash._MEMO


def test_a_yaml_text_is_parsed_once_and_each_reader_gets_its_own_data(monkeypatch):
    text = b"drop_id: x\nlist: [1, 2]\n"
    first = safeyaml.parse_yaml(text, "a.yaml")
    composed = []
    real = safeyaml.StrictLoader.get_single_node
    monkeypatch.setattr(safeyaml.StrictLoader, "get_single_node", lambda self: composed.append(1) or real(self))
    first.data["list"].append(3)
    second = safeyaml.parse_yaml(text, "b.yaml")
    assert composed == []
    assert second.data == {"drop_id": "x", "list": [1, 2]} and second.display == "b.yaml"
    assert second.line_of(("list",)) == 2


def test_a_refused_yaml_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(safeyaml.InputError, match="line 2"):
            safeyaml.parse_yaml(b"a: 1\na: 2\n", "dup.yaml")


def test_the_cli_answers_without_pydantic_or_typer():
    out = _python("import sys\nfrom evalpipe import cli\n"
                  "try:\n    cli.app(['stages'])\nexcept SystemExit as exc:\n    code = exc.code\n"
                  "print(code, 'pydantic' in sys.modules, 'typer' in sys.modules, 'pandas' in sys.modules)")
    assert out.splitlines()[-1] == "0 False False False"


def test_a_params_file_is_not_overridden_by_the_defaults(tmp_path):
    from click.testing import CliRunner

    from evalpipe import cli

    (tmp_path / "p.yaml").write_text("cutoff: 2020Q4\n", encoding="utf-8")
    previous = cli._root
    cli.set_root(Path(__file__).resolve().parents[1])
    try:
        from_file = CliRunner().invoke(cli.app, ["status", "--params", str(tmp_path / "p.yaml")])
        given = CliRunner().invoke(cli.app, ["status", "--params", str(tmp_path / "p.yaml"), "--cutoff", "2020Q2"])
    finally:
        cli._root = previous
    assert from_file.exit_code == 0, from_file.output
    assert from_file.output.splitlines()[0] == "reports/midterm-2020Q4/"
    assert given.output.splitlines()[0] == "reports/midterm-2020Q2/"


def test_the_import_scan_finds_what_a_full_walk_of_the_tree_finds():
    import ast

    from evalpipe import stages

    root = Path(stages.__file__).resolve().parent
    sources = [p.read_text(encoding="utf-8") for p in sorted(root.glob("*.py"))]
    sources.append("def f():\n    try:\n        import evalpipe.a\n    except ImportError:\n        from . import b\n"
                   "    else:\n        from .c import x\n    finally:\n        from evalpipe.d import y\n"
                   "class K:\n    while True:\n        pass\n    else:\n        from evalpipe import e\n"
                   "match v:\n    case 1:\n        from .g import z\n"
                   "async def h():\n    async with m:\n        async for i in n:\n            from .i import w\n"
                   "f = lambda: 1\nx = [1 for _ in ()]\n")
    for source in sources:
        every = [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))]
        scanned = [n for n in stages._statements(ast.parse(source).body) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert len(scanned) == len(every)
    assert stages._imports_cached(sources[-1]) == {"a", "b", "c", "d", "e", "g", "i"}
