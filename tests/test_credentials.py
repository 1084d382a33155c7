"""The keyring-backed credential store: secrets, token sets, choosing a token, no-backend help."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked

from kenar_api.bodies import TokenResponse
from kenar_core.errors import CredentialError
from kenar_tui.credentials import (
    INDEX,
    SERVICE,
    TOKEN_PREFIX,
    CredentialStore,
    StoredToken,
    new_token_id,
)
from kenar_tui.keyring_memory import MemoryKeyring, memory_backend
from tests.fixtures.memory_keyring import MemoryKeyring as EnvMemoryKeyring

NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_env_keyring() -> Iterator[None]:
    """The PYTHON_KEYRING_BACKEND test keyring shares one dict per process: start empty."""
    EnvMemoryKeyring.store.clear()
    yield
    EnvMemoryKeyring.store.clear()


def token(
    scopes: list[str], *, hours: float = 1, refresh: bool = True, uid: str | None = None
) -> StoredToken:
    return StoredToken(
        id=new_token_id(),
        access_token=f"at_{new_token_id()}{new_token_id()}",
        refresh_token=f"rt_{new_token_id()}{new_token_id()}" if refresh else None,
        scopes=tuple(scopes),
        expires_at=NOW + timedelta(hours=hours),
        obtained_at=NOW + timedelta(hours=hours) - timedelta(hours=1),
        user_id=uid,
    )


@pytest.fixture
def backend() -> MemoryKeyring:
    return memory_backend()


@pytest.fixture
def creds(backend: MemoryKeyring) -> CredentialStore:
    return CredentialStore(backend, now=lambda: NOW)


def test_secrets_are_stored_read_and_forgotten(creds: CredentialStore) -> None:
    """The API key, client secret and relay token round-trip through the keyring and go away."""
    assert creds.api_key is None
    creds.api_key = "k-کلید-123"
    creds.client_secret = " cs-456\n"
    creds.relay_token = "rt-789"
    assert (creds.api_key, creds.client_secret, creds.relay_token) == (
        "k-کلید-123",
        "cs-456",
        "rt-789",
    )
    assert creds.forget_secret("client-secret") is True
    assert creds.forget_secret("client-secret") is False
    assert creds.client_secret is None
    creds.api_key = ""
    assert creds.api_key is None


def test_a_missing_secret_says_how_to_store_it(creds: CredentialStore) -> None:
    """Asking for a secret that is not there names the command that stores it."""
    with pytest.raises(CredentialError, match="kenar-tui auth set client-secret"):
        creds.require("client-secret")
    with pytest.raises(CredentialError, match="unknown secret"):
        creds.secret("password")


def test_each_secret_is_its_own_entry_under_one_service(
    creds: CredentialStore, backend: MemoryKeyring
) -> None:
    """One keyring service, one entry per secret, one per token set plus the index."""
    creds.api_key = "key-1"
    stored = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.gZd7omnS"]))
    assert backend.get_password(SERVICE, "api-key") == "key-1"
    assert backend.get_password(SERVICE, TOKEN_PREFIX + stored.id) is not None
    assert stored.id in (backend.get_password(SERVICE, INDEX) or "")


def test_token_sets_are_listed_with_scopes_and_expiry(creds: CredentialStore) -> None:
    """Token sets for several posts live side by side and come back as stored."""
    a = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"], uid="u1"))
    b = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.bbbb2222"], hours=2))
    listed = creds.tokens()
    assert [t.id for t in listed] == [a.id, b.id]
    assert listed[0] == a and listed[1].expires_at == NOW + timedelta(hours=2)
    assert listed[0].user_id == "u1" and listed[1].refresh_token == b.refresh_token


def test_logging_in_again_for_the_same_scopes_replaces_the_old_set(creds: CredentialStore) -> None:
    """A second login for exactly the same scopes does not pile up tokens."""
    first = creds.add_token(token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"]))
    second = creds.add_token(token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"], hours=3))
    assert [t.id for t in creds.tokens()] == [second.id]
    assert creds.token(first.id) is None


def test_repr_and_str_never_show_a_secret() -> None:
    """Printing a token set (a log line, a traceback) shows scopes and expiry, never tokens."""
    t = token(["CHAT_POST_CONVERSATIONS_READ.gZd7omnS"])
    for text in (repr(t), str(t), f"{t}", repr([t])):
        assert t.access_token not in text and str(t.refresh_token) not in text
        assert "gZd7omnS" in text
    response = TokenResponse(
        access_token="at_secret_value", refresh_token="rt_secret_value", scope="x"
    )
    stored = StoredToken.from_response(response)
    assert "secret_value" not in repr(stored)


def test_replace_token_swaps_the_pair_in_place(
    creds: CredentialStore, backend: MemoryKeyring
) -> None:
    """Replacing keeps the token's place, removes the old entry and leaves no stale id."""
    a = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"]))
    b = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.bbbb2222"]))
    new = creds.replace_token(a.id, token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"], hours=2))
    assert [t.id for t in creds.tokens()] == [new.id, b.id]
    assert backend.get_password(SERVICE, TOKEN_PREFIX + a.id) is None
    assert '"stale": []' in (backend.get_password(SERVICE, INDEX) or "")


class CrashingKeyring(MemoryKeyring):
    """Dies on the n-th write or delete, like a process killed mid-replacement."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_at: int | None = None
        self.ops = 0

    def _tick(self) -> None:
        self.ops += 1
        if self.crash_at is not None and self.ops >= self.crash_at:
            raise SystemExit("crash")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._tick()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._tick()
        super().delete_password(service, username)


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4, 5])
def test_a_crash_mid_replacement_leaves_a_usable_token(crash_at: int) -> None:
    """Killed at any step of a replacement, the store reopens with one usable token, no orphan."""
    ring = CrashingKeyring()
    creds = CredentialStore(ring, now=lambda: NOW)
    old = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"]))
    ring.ops, ring.crash_at = 0, crash_at
    fresh = token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"], hours=2)
    with pytest.raises(SystemExit):
        creds.replace_token(old.id, fresh)
    ring.crash_at = None
    tokens = CredentialStore(ring, now=lambda: NOW).tokens()
    assert len(tokens) == 1
    live = tokens[0]
    assert live.id == (old.id if crash_at <= 3 else fresh.id)
    assert live == (old if crash_at <= 3 else fresh)
    (gone,) = {old.id, fresh.id} - {live.id}
    assert ring.get_password(SERVICE, TOKEN_PREFIX + gone) is None
    assert '"stale": []' in (ring.get_password(SERVICE, INDEX) or "")


def test_the_narrowest_covering_token_is_chosen_for_a_send(creds: CredentialStore) -> None:
    """Per-post beats all-posts; a post without a token cannot be sent to."""
    everything = creds.add_token(token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"], hours=5))
    post = creds.add_token(token(["CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS"]))
    one = creds.add_token(token(["CONVERSATION_SEND_MESSAGE.conv-1"]))
    assert creds.token_for_send("conv-1", "gZd7omnS") == one
    assert creds.token_for_send("conv-2", "gZd7omnS") == post
    assert creds.token_for_send("conv-3", "otherPst") == everything
    creds.drop_token(everything.id)
    assert creds.token_for_send("conv-3", "otherPst") is None
    assert creds.can_send("conv-2", "gZd7omnS") and not creds.can_send("conv-3", "otherPst")


def test_a_live_token_is_preferred_over_an_expired_narrower_one(creds: CredentialStore) -> None:
    """An expired per-post token loses to a live all-posts one; alone, it is still returned."""
    expired = creds.add_token(token(["CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS"], hours=-1))
    live = creds.add_token(token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"]))
    assert creds.token_for_send("c", "gZd7omnS") == live
    creds.drop_token(live.id)
    assert creds.token_for_send("c", "gZd7omnS") == expired


def test_tokens_for_read_lists_covering_tokens_narrowest_first(creds: CredentialStore) -> None:
    """Reading can use any token that covers the conversation, the narrowest first."""
    wide = creds.add_token(token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"]))
    narrow = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.gZd7omnS"]))
    creds.add_token(token(["CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS"]))
    assert creds.tokens_for_read("c", "gZd7omnS") == [narrow, wide]


def test_dropping_tokens_by_user_and_all(creds: CredentialStore) -> None:
    """A user's revocation drops their tokens and those of unknown owner; others stay."""
    mine = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.aaaa1111"], uid="seller-1"))
    unknown = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.bbbb2222"]))
    other = creds.add_token(token(["CHAT_POST_CONVERSATIONS_READ.cccc3333"], uid="seller-2"))
    dropped = creds.drop_tokens_for_user("seller-1")
    assert {t.id for t in dropped} == {mine.id, unknown.id}
    assert creds.tokens() == [other]
    assert creds.drop_all_tokens() == [other]
    assert creds.tokens() == []


def test_the_store_reads_the_backend_selected_by_the_environment() -> None:
    """With no backend given, the one PYTHON_KEYRING_BACKEND names is used, live."""
    creds = CredentialStore()
    assert creds.backend_name.endswith("MemoryKeyring")
    creds.relay_token = "relay-secret"
    assert CredentialStore().relay_token == "relay-secret"


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring()],
    ids=["fail", "null"],
)
def test_no_usable_backend_is_refused_with_how_to_fix_it(backend: KeyringBackend) -> None:
    """Without a working keyring the store refuses to start and says how to get one."""
    with pytest.raises(CredentialError) as caught:
        CredentialStore(backend)
    text = str(caught.value)
    assert "gnome-keyring" in text and "KWallet" in text
    assert "unset PYTHON_KEYRING_BACKEND" in text and "scrypt, AES-GCM" in text
    assert "PYTHON_KEYRING_BACKEND=keyrings.alt" not in text  # never steered to the weak file
    assert "plain-text" in text


def test_an_empty_chainer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's chainer with nothing to chain counts as no keyring at all."""
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    with pytest.raises(CredentialError, match="no usable system keyring"):
        CredentialStore(chainer.ChainerBackend())


def test_the_fail_backend_selected_by_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring gives the help, not a traceback."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(CredentialError, match=r"unset PYTHON_KEYRING_BACKEND"):
        CredentialStore()


def test_a_locked_keyring_is_reported_without_the_value() -> None:
    """A backend failing mid-use becomes a CredentialError naming the entry, not the secret."""

    class Locked(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringLocked(f"cannot store {password}")

    creds = CredentialStore(Locked())
    with pytest.raises(CredentialError) as caught:
        creds.api_key = "very-secret-key"
    assert "api-key" in str(caught.value) and "locked" in str(caught.value)
    assert "very-secret-key" not in str(caught.value)


def test_the_demo_backend_is_private_and_never_auto_detected() -> None:
    """memory_backend() gives separate stores, and keyring never picks it on its own."""
    import keyring.backend

    one, two = CredentialStore(memory_backend()), CredentialStore(memory_backend())
    one.api_key = "demo-key"
    assert two.api_key is None
    assert not any(isinstance(b, MemoryKeyring) for b in keyring.backend.get_all_keyring())


class CountingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def test_listing_tokens_reads_the_keyring_once_and_sees_other_writers() -> None:
    """Choosing a token costs one keyring read, yet a login by another process shows at once."""
    ring = CountingKeyring()
    console, cli = CredentialStore(ring, now=lambda: NOW), CredentialStore(ring, now=lambda: NOW)
    for post in ("aaaa1111", "bbbb2222", "cccc3333"):
        console.add_token(token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{post}"]))
    console.tokens()
    ring.reads = 0
    assert console.can_send("c", "bbbb2222")
    assert ring.reads == 1
    added = cli.add_token(token(["CHAT_POST_CONVERSATIONS_MESSAGE_SEND.dddd4444"]))
    assert console.token_for_send("c", "dddd4444") == added


@pytest.mark.parametrize(
    "name",
    ["kenar_tui.keyring_memory.MemoryKeyring", "no_such_module.Keyring", "keyring.backends.Nope"],
)
def test_an_unusable_backend_named_in_the_environment_is_explained(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PYTHON_KEYRING_BACKEND that cannot load here is named in the error, with the fix."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    with pytest.raises(CredentialError, match="cannot be used here") as caught:
        CredentialStore()
    assert name in str(caught.value) and "gnome-keyring" in str(caught.value)
