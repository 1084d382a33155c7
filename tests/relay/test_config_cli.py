"""Settings precedence (flags > env > TOML > defaults) and the `kenar-relay` command line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kenar_core import __version__
from kenar_core.errors import ConfigError
from relay.cli import main
from relay.config import RelayConfig


def test_flags_beat_env_which_beats_toml_which_beats_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each source overrides the ones below it, field by field."""
    toml = tmp_path / "relay.toml"
    toml.write_text('port = 9001\nhost = "0.0.0.0"\nretention_hours = 24\nallow_ip = ["divar"]\n')
    monkeypatch.setenv("KENAR_RELAY_PORT", "9002")
    monkeypatch.setenv("KENAR_RELAY_HOST", "127.0.0.2")
    config = RelayConfig.load(toml, port=9003)
    assert config.port == 9003  # flag
    assert config.host == "127.0.0.2"  # env over TOML
    assert config.retention_hours == 24  # TOML over default
    assert config.max_body_bytes == 256 * 1024  # default
    assert "31.214.250.128/27" in config.allow_ip and len(config.allow_ip) == 4


def test_env_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """KENAR_RELAY_ALLOW_IP takes a comma-separated list, presets included."""
    monkeypatch.setenv("KENAR_RELAY_ALLOW_IP", "divar, 10.0.0.0/8")
    monkeypatch.setenv("KENAR_RELAY_TRUSTED_PROXIES", "127.0.0.1")
    config = RelayConfig.load()
    assert config.allow_ip[-1] == "10.0.0.0/8" and config.trusted_proxies == ["127.0.0.1/32"]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"allow_ip": "not-a-network"}, "not-a-network"),
        ({"server_link_url": "ftp://x/{post_token}"}, "https://"),
        ({"server_link_url": "https://x/{post_token.__class__}"}, "plain name"),
        ({"port": 70000}, "port"),
    ],
)
def test_invalid_settings_are_named(settings: dict[str, object], words: str) -> None:
    """A bad setting raises ConfigError with a sentence naming it."""
    with pytest.raises(ConfigError) as error:
        RelayConfig.load(None, **settings)
    assert words in str(error.value)


def test_a_broken_toml_file_is_named(tmp_path: Path) -> None:
    """A TOML syntax error names the file; an unknown key is refused."""
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 3\n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        RelayConfig.load(broken)
    typo = tmp_path / "typo.toml"
    typo.write_text("prot = 3\n")
    with pytest.raises(ConfigError, match="prot"):
        RelayConfig.load(typo)


def test_serve_refuses_to_start_without_an_identification_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kenar-relay serve` with no key exits 2 with one line saying which variable to set."""
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "KENAR_RELAY_IDENTIFICATION_KEY" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version; --help lists the subcommands."""
    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "serve" in out and "token" in out


def test_token_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tokens are printed once, stored hashed in a 0600 file, listed by name only, and revoked."""
    data = ["--data-dir", str(tmp_path)]
    assert main(["token", "create", "sara", *data]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("kr_") and len(token) > 40
    stored = tmp_path / "tokens.json"
    assert token not in stored.read_text()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert main(["token", "create", "sara", *data]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["token", "list", *data]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("sara\t") and token not in listing
    assert main(["token", "revoke", "sara", *data]) == 0
    assert main(["token", "revoke", "sara", *data]) == 2
    assert "no token" in capsys.readouterr().err
    assert main(["token", "create", "bad name!", *data]) == 2
