"""Settings: defaults, the TOML file with its [keymap], the environment, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenar_core.errors import ConfigError
from kenar_tui.config import Settings


def test_defaults_live_in_the_platform_directories(isolated_dirs: Path) -> None:
    """With nothing configured: Tehran time, bidi on, 30-day retention, XDG paths."""
    settings = Settings.load()
    assert settings.timezone == "Asia/Tehran" and settings.bidi and settings.mask_phones
    assert settings.cache_retention_days == 30 and settings.calendar == "gregorian"
    assert settings.config_file == isolated_dirs / "config" / "kenar-tui" / "config.toml"
    assert settings.data_dir == isolated_dirs / "data" / "kenar-tui"
    assert settings.relay_url is None


def test_the_config_file_and_its_keymap(tmp_path: Path) -> None:
    """The TOML file sets fields, and [keymap] overrides bindings by id."""
    path = tmp_path / "config.toml"
    path.write_text(
        'relay_url = "wss://relay.example/ws"\noperator = "سارا"\ncalendar = "jalali"\n'
        '[keymap]\nnext_unanswered = "u"\nsend = "ctrl+s"\n',
        encoding="utf-8",
    )
    settings = Settings.load(path)
    assert settings.relay_url == "wss://relay.example/ws" and settings.operator == "سارا"
    assert settings.calendar == "jalali"
    assert settings.keymap == {"next_unanswered": "u", "send": "ctrl+s"}
    assert settings.config_file == path


def test_environment_beats_the_file_and_overrides_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KENAR_TUI_* variables win over the file; keyword overrides (the CLI) win over both."""
    path = tmp_path / "config.toml"
    path.write_text('operator = "سارا"\nbidi = true\n', encoding="utf-8")
    monkeypatch.setenv("KENAR_TUI_OPERATOR", "علی")
    monkeypatch.setenv("KENAR_TUI_BIDI", "false")
    settings = Settings.load(path)
    assert (settings.operator, settings.bidi) == ("علی", False)
    assert Settings.load(path, operator="مریم").operator == "مریم"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "relay_url = 'ftp://relay.example'",
            "relay URL must look like wss://",
        ),  # http(s) means its /ws
        ("timezone = 'Mars/Olympus'", "unknown time zone"),
        ("calendar = 'lunar'", "calendar"),
        ("operator = 'سارا'\nbidi = yes", "line 2"),
    ],
)
def test_bad_settings_name_the_file_and_the_problem(
    tmp_path: Path, content: str, words: str
) -> None:
    """An invalid value or broken TOML raises ConfigError naming the file and what is wrong."""
    path = tmp_path / "config.toml"
    path.write_text(content + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Settings.load(path)
    assert str(path) in str(caught.value) and words in str(caught.value)
