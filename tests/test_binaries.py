"""A test that needs a Debian binary skips on a developer's machine but fails under CI."""

from __future__ import annotations

import pytest

from tests.fixtures.binaries import require_binary

MISSING = "kenar-tui-no-such-binary"


def test_a_missing_binary_fails_the_test_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run this test: .*apt-get install"):
        require_binary(MISSING, "kenar-pkg")


def test_a_missing_binary_skips_with_the_package_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install kenar-pkg"):
        require_binary(MISSING, "kenar-pkg")


def test_a_present_binary_is_found_by_path() -> None:
    assert require_binary("sh").endswith("/sh")
