"""Loading declarations shipped as data (TOML), with French errors naming the file and the field."""

import tomllib
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

_KINDS = {"extra_forbidden": "clé inconnue", "missing": "champ obligatoire absent"}


class DeclarationError(Exception):
    pass


def describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(racine)"
        parts.append(f"{where} : {_KINDS.get(item['type'], item['msg'])}")
    return " ; ".join(parts)


def parse(model: type[Model], text: str, source: str) -> Model:
    try:
        return model.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"{source} : TOML illisible : {error}") from None
    except ValidationError as error:
        raise DeclarationError(f"{source} : déclaration invalide : {describe(error)}") from None


def load(model: type[Model], package: str, name: str) -> Model:
    return parse(model, resources.files(package).joinpath(name).read_text(encoding="utf-8"), name)
