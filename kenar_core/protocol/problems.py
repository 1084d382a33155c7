"""A validation error as the sentence the `error` frame and a refused post carry."""

from __future__ import annotations

from typing import TypeGuard

from pydantic import BaseModel, ValidationError

from kenar_core.protocol.entries import _ENTRIES
from kenar_core.protocol.frames import _RELAY_FRAMES, CONSOLE_FRAMES


def problem(exc: ValidationError, where: str, model: type[BaseModel] | None = None) -> str:
    """The first rule `exc` reports as a sentence: "<where>.<field> must be <rule>".

    `model` is the model that was meant (the frame's or entry's by its tag), whose field
    descriptions say the rule; without one, pydantic's own words are used.
    """
    error = exc.errors(include_url=False)[0]
    names = [str(part) for part in error["loc"]]
    fields = _fields(model, names)
    field = ".".join([where, *fields]) if fields else where
    rule = _rule(model, fields)
    if error["type"] == "missing":
        return f"{field} is needed"
    if rule is not None:
        return f"{field} must be {rule}"
    return f"{field}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def _fields(model: type[BaseModel] | None, names: list[str]) -> list[str]:
    """`names` without the union tags pydantic puts in a location."""
    if model is None:
        return [name for name in names if not name.isidentifier() or name not in _TAGS]
    kept: list[str] = []
    for name in names:
        if model is not None and name in model.model_fields:
            kept.append(name)
            annotation = model.model_fields[name].annotation
            model = annotation if _is_model(annotation) else None
        elif model is None:
            kept.append(name)
    return kept


def _rule(model: type[BaseModel] | None, fields: list[str]) -> str | None:
    """The `description` of the field the error is about, when the models give one."""
    for name in fields:
        if model is None or name not in model.model_fields:
            return None
        info = model.model_fields[name]
        if _is_model(info.annotation):
            model = info.annotation
            continue
        return info.description
    return None


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_TAGS = frozenset({*_RELAY_FRAMES, *_ENTRIES, *CONSOLE_FRAMES, "other"})
