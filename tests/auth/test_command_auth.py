"""`kenar-tui auth status|set|forget`, run in-process against the test keyring."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from kenar_tui.cli import main
from kenar_tui.credentials import CredentialStore, StoredToken

SECRET = "sk-live-6GqmD76dle5NpJyS"


class FakeStdin(io.StringIO):
    def __init__(self, text: str, *, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def stored_token(creds: CredentialStore, post: str, *, hours: float = 1) -> StoredToken:
    now = datetime.now(UTC)
    return creds.add_token(
        StoredToken(
            id=f"tok{post[:4]}",
            access_token=f"at_access_{post}",
            refresh_token=f"rt_refresh_{post}",
            scopes=(f"CHAT_POST_CONVERSATIONS_READ.{post}", "offline_access"),
            expires_at=now + timedelta(hours=hours),
            obtained_at=now,
        )
    )


def test_set_reads_the_secret_from_stdin_for_scripts(
    creds: CredentialStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auth set api-key --stdin` stores the first line of stdin and never prints it."""
    monkeypatch.setattr("sys.stdin", FakeStdin(SECRET + "\nsecond line\n", tty=True))
    assert main(["auth", "set", "api-key", "--stdin"]) == 0
    assert creds.api_key == SECRET
    out = capsys.readouterr()
    assert "stored api-key" in out.out
    assert SECRET not in out.out + out.err


def test_set_reads_piped_stdin_without_the_flag(
    creds: CredentialStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When stdin is not a terminal the secret is read from it (echo ... | kenar-tui auth set)."""
    monkeypatch.setattr("sys.stdin", FakeStdin("relay-token-value\n"))
    assert main(["auth", "set", "relay-token"]) == 0
    assert creds.relay_token == "relay-token-value"
    assert "relay-token-value" not in capsys.readouterr().out


def test_set_prompts_without_echo_on_a_terminal(
    creds: CredentialStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal the secret is asked for with getpass (typing not shown)."""
    prompts: list[str] = []
    monkeypatch.setattr("sys.stdin", FakeStdin("", tty=True))

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "client-secret-value"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(["auth", "set", "client-secret"]) == 0
    assert creds.client_secret == "client-secret-value"
    assert prompts and "client-secret" in prompts[0] and "not shown" in prompts[0]
    assert "client-secret-value" not in capsys.readouterr().out


def test_set_with_nothing_typed_changes_nothing(
    creds: CredentialStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty line is refused with exit 2 and the stored value stays."""
    creds.api_key = SECRET
    monkeypatch.setattr("sys.stdin", FakeStdin("\n"))
    assert main(["auth", "set", "api-key"]) == 2
    assert creds.api_key == SECRET
    assert "nothing was entered" in capsys.readouterr().err


def test_status_shows_what_is_stored_but_never_values(
    creds: CredentialStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Status lists secrets as stored/not stored, tokens with scopes and expiry, no values."""
    creds.api_key = SECRET
    token = stored_token(creds, "gZd7omnS", hours=2)
    assert main(["auth", "status"]) == 0
    out = capsys.readouterr().out
    assert "api-key        stored" in out
    assert "client-secret  not stored (kenar-tui auth set client-secret)" in out
    assert token.id in out and "CHAT_POST_CONVERSATIONS_READ.gZd7omnS" in out
    assert "expires" in out and "(in 1h 59m)" in out and "refreshable" in out
    for secret in (SECRET, token.access_token, str(token.refresh_token)):
        assert secret not in out


def test_status_json_for_scripts(
    creds: CredentialStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auth status --json` gives the same facts as JSON, again without values."""
    creds.relay_token = "relay-secret-xyz"
    token = stored_token(creds, "aaaa1111", hours=-1)
    assert main(["auth", "status", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["secrets"] == {"api-key": False, "client-secret": False, "relay-token": True}
    assert data["tokens"][0]["id"] == token.id and data["tokens"][0]["expired"] is True
    assert "relay-secret-xyz" not in out and token.access_token not in out


def test_status_with_nothing_stored_points_to_login(
    creds: CredentialStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty keyring says so and names the commands that fill it."""
    assert main(["auth", "status"]) == 0
    out = capsys.readouterr().out
    assert "tokens: none (kenar-tui login)" in out
    assert "not stored (kenar-tui auth set api-key)" in out


def test_forget_removes_one_secret_tokens_or_everything(
    creds: CredentialStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auth forget` removes what it names and says what it removed."""
    creds.api_key, creds.client_secret, creds.relay_token = "a-key", "c-secret", "r-token"
    stored_token(creds, "aaaa1111")
    stored_token(creds, "bbbb2222")
    assert main(["auth", "forget", "relay-token"]) == 0
    assert creds.relay_token is None and creds.api_key == "a-key"
    assert main(["auth", "forget", "tokens"]) == 0
    assert creds.tokens() == [] and creds.client_secret == "c-secret"
    assert main(["auth", "forget", "all"]) == 0
    assert creds.api_key is None and creds.client_secret is None
    out = capsys.readouterr().out
    assert "forgot relay-token" in out and "forgot 2 token(s)" in out
    assert "forgot api-key, client-secret" in out
    assert main(["auth", "forget", "all"]) == 0
    assert "nothing to forget" in capsys.readouterr().out


def test_unknown_secret_names_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the three secret names are accepted."""
    with pytest.raises(SystemExit) as exited:
        main(["auth", "set", "password"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_keyring_backend_gives_the_fix_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With keyring's fail backend selected every auth command explains how to get a keyring."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr("sys.stdin", FakeStdin(SECRET + "\n"))
    for argv in (["auth", "status"], ["auth", "set", "api-key"], ["auth", "forget", "all"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("kenar-tui: no usable system keyring was found")
        assert "gnome-keyring" in err and "unset PYTHON_KEYRING_BACKEND" in err
        assert "its own passphrase-protected file" in err
        assert "Traceback" not in err and SECRET not in err
