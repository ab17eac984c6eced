"""``python -m tightbind``: the command dispatcher."""

from __future__ import annotations


def test_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert "bench" in result.stdout


def test_version(run_cli):
    import tightbind

    result = run_cli("--version")
    assert result.stdout.strip() == (f"tightbind {tightbind.__version__} "
                                     "(native libraries: tightbind info)")


def test_help_is_plain_text(run_cli):
    for args in (["--help"], ["ocr", "--help"], ["chain", "--help"], ["p12", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0 and "``" not in result.stdout, args
    assert "tightbind COMMAND --help" in run_cli("--help").stdout


def test_tessdata_help_names_the_bundled_models(run_cli):
    assert "models that come with" in " ".join(run_cli("ocr", "--help").stdout.split())
