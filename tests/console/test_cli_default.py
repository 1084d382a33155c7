"""`kenar-tui --relay-url X` and `--log-file X` are the console's options, no command named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenar_tui.cli import main, with_default_command


def test_options_of_the_default_command_need_no_command_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Parsed as the console's own: the settings check answers, not argparse's "invalid choice"."""
    log = tmp_path / "console.log"
    code = main(
        ["--config", str(tmp_path / "none.toml"), "--relay-url", "ftp://x", "--log-file", str(log)]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "invalid choice" not in err and "unrecognized arguments" not in err
    assert "the relay URL must look like wss://relay.example.com" in err


def test_commands_help_and_version_keep_their_meaning() -> None:
    assert with_default_command(["demo", "--seed", "3"]) == ["demo", "--seed", "3"]
    assert with_default_command(["--version"]) == ["--version"]
    assert with_default_command([]) == ["console"]
    assert with_default_command(["--relay-url", "wss://r"]) == ["console", "--relay-url", "wss://r"]
