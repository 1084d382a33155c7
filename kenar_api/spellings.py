"""Older spellings Divar's migration guide uses, read as the current ones.

Liberal in what we accept: `meta_data` for `metadata`, `icon_name` for `icon`. A field lists
its spellings with pydantic's AliasChoices, current first:

    icon: str = Field(validation_alias=AliasChoices("icon", "icon_name"))

We always send the current one (the field's own name). When a body carries both, the current
one wins and the old one is dropped: pydantic alone would read the current one but then call
the old key an extra input (an error where extras are forbidden, a stray field elsewhere).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, model_validator


class AcceptsOldSpellings(BaseModel):
    """A model whose AliasChoices fields drop the older spellings a body also carries."""

    # Per class, for each field with AliasChoices: its spellings, current first.
    _spellings: ClassVar[tuple[tuple[str, ...], ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._spellings = tuple(
            tuple(choice for choice in field.validation_alias.choices if isinstance(choice, str))
            for field in cls.model_fields.values()
            if isinstance(field.validation_alias, AliasChoices)
        )

    @model_validator(mode="before")
    @classmethod
    def _drop_shadowed_spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for spellings in cls._spellings:
            present = [name for name in spellings if name in data]
            if len(present) > 1:
                data = {key: value for key, value in data.items() if key not in present[1:]}
        return data
