"""``python -m tightbind``: the command dispatcher."""

from __future__ import annotations


def test_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert "bench" in result.stdout


def test_version(run_cli):
    import tightbind

    result = run_cli("--version")
    assert result.stdout.strip() == f"tightbind {tightbind.__version__}"
