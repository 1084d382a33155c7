"""The one way the console's and the relay's settings are loaded: keyword arguments, then the
environment, then one TOML file chosen by the caller.

pydantic-settings asks the class (not the instance) for its sources, so the file a particular
`load()` reads cannot be an argument of the model; a ContextVar carries it for the length of
that one construction, safely even when two loads run at once in different threads or tasks.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Self

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

_toml_file: ContextVar[Path | None] = ContextVar("kenar_settings_toml_file", default=None)


class TomlFileSettings(BaseSettings):
    """Settings from keyword arguments, the environment (the subclass's env_prefix), then the
    TOML file given to `from_toml_file`, in that order of precedence."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_file.get()
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @classmethod
    def from_toml_file(cls, path: Path | None, /, **values: Any) -> Self:
        """The settings with `path` (None or a missing file: no file) as the TOML source.

        Raises ValidationError for a bad value and ValueError (tomllib's TOMLDecodeError) for
        a file that is not TOML; callers turn both into a ConfigError naming the file.
        """
        token = _toml_file.set(path)
        try:
            return cls(**values)
        finally:
            _toml_file.reset(token)


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """Where (the dotted setting name, "" for the whole) and what the first error says."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    # A validator's own sentence comes as "Value error, <sentence>": the sentence is enough.
    return where, str(first["msg"]).removeprefix("Value error, ")
