"""The objection playbook: what each objection sounds like and how to answer it.

The shipped ``playbook.yaml`` is merged with, in order, the file named by the
``playbook`` setting and the ``objections`` mapping written in the profile. A
later source may add categories or replace single fields of an existing one
(say, only its ``responses``). Every problem is one line naming the file and key.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Optional

import yaml

from .matcher import Pattern, PatternError, compile_pattern

REQUIRED_FIELDS = ("label", "responses")
# A category needs at least one way to be recognised.
RECOGNISED_BY = ("triggers", "examples")
FIELDS = {
    "label": "a short name shown on the prompt",
    "triggers": "phrases that raise it",
    "examples": "whole sentences a prospect might say that raise it, matched by meaning",
    "unless": "phrases that mean it was not raised after all",
    "responses": "what to say back",
    "follow_up": "a question to ask next",
}
TOP_LEVEL_KEYS = ("objections", "words")
# libyaml's loader when PyYAML was built with it: the shipped playbook is read at
# every call's start, and the pure-Python loader takes tens of milliseconds.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PlaybookError(ValueError):
    """A playbook that cannot be used; the message names the file and the key."""


@dataclass
class Objection:
    category: str
    label: str
    triggers: list[Pattern]
    responses: list[str]
    follow_up: Optional[str] = None
    unless: list[Pattern] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def shipped_playbook_path() -> str:
    return str(files(__package__).joinpath("playbook.yaml"))


def load_playbook(
    extra_file: Optional[str] = None,
    inline: Optional[dict] = None,
    inline_origin: str = "profile",
    inline_key: str = "objections",
) -> list[Objection]:
    """The shipped playbook merged with a user's file and a profile's inline objections.

    ``inline_origin`` and ``inline_key`` say where the inline mapping was written
    (the profile's path, ``plugins.objections.objections``), for error messages.
    """
    sources = [(shipped_playbook_path(), "objections", _read_yaml(shipped_playbook_path()))]
    if extra_file:
        sources.append((extra_file, "objections", _read_yaml(extra_file)))
    if inline:
        if not isinstance(inline, dict):
            raise PlaybookError(f"{inline_origin}: {inline_key} must be a mapping of category name to its entry")
        sources.append((inline_origin, inline_key, {"objections": inline}))
    words: dict[str, list[str]] = {}
    entries: dict[str, dict] = {}
    introduced_by: dict[str, str] = {}
    for origin, key, data in sources:
        source_words, source_entries = _check_source(origin, key, data)
        words.update(source_words)
        for category, fields in source_entries.items():
            where = f"{origin}: {key}.{category}"
            entries.setdefault(category, {}).update(_checked_fields(where, fields, words))
            introduced_by.setdefault(category, where)
    return [_objection(introduced_by[category], category, fields) for category, fields in entries.items()]


def _read_yaml(path: str):
    if not path.lower().endswith((".yaml", ".yml")):
        raise PlaybookError(f"playbook {path} must be a .yaml or .yml file")
    if os.path.exists(path) and not os.path.isfile(path):
        raise PlaybookError(f"playbook {path} is not a file")  # a folder or a pipe would hang or fail
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise PlaybookError(f"playbook {path} does not exist") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise PlaybookError(f"{path}: YAML syntax error{where}: {problem}") from None
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as error:
        # PyYAML lets some constructor errors through ("!!int text").
        detail = " ".join(str(error).split())[:120]
        raise PlaybookError(f"{path}: a value cannot be read ({type(error).__name__}: {detail})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlaybookError(f"{path}: cannot be read ({error})") from None


def _check_source(origin: str, key: str, data) -> tuple[dict, dict]:
    """Check one source's shape; return its word lists and its categories."""
    if not isinstance(data, dict) or ("objections" not in data and "words" not in data):
        raise PlaybookError(f"{origin}: expected a mapping with an 'objections' key (and optionally 'words')")
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS), key=str)
    if unknown:
        raise PlaybookError(f"{origin}: {unknown[0]} is not a playbook key; use {' or '.join(TOP_LEVEL_KEYS)}")
    words = data.get("words") or {}
    if not isinstance(words, dict):
        raise PlaybookError(f"{origin}: words must be a mapping of list name to a list of words")
    for name, entries in words.items():
        if not _is_list_of_text(entries):
            raise PlaybookError(f"{origin}: words.{name} must be a list of words or phrases")
    objections = data.get("objections") or {}
    if not isinstance(objections, dict):
        raise PlaybookError(f"{origin}: {key} must be a mapping of category name to its entry")
    for category, fields in objections.items():
        if not isinstance(fields, dict):
            raise PlaybookError(
                f"{origin}: {key}.{category} must be a mapping with {', '.join(REQUIRED_FIELDS)}, "
                f"{' or '.join(RECOGNISED_BY)}, and follow_up"
            )
    return {str(name): list(entries) for name, entries in words.items()}, {
        str(category): fields for category, fields in objections.items()
    }


def _checked_fields(where: str, fields: dict, words: dict) -> dict:
    """One source's fields for a category, checked, with trigger phrases compiled."""
    checked = {}
    for name, value in fields.items():
        if name not in FIELDS:
            raise PlaybookError(f"{where}.{name} is not a field; fields are {', '.join(FIELDS)}")
        if name in ("label", "follow_up"):
            if not isinstance(value, str) or not value.strip():
                raise PlaybookError(f"{where}.{name} must be a non-empty text ({FIELDS[name]})")
            checked[name] = value.strip()
        elif not _is_list_of_text(value) or (name != "unless" and not value):
            raise PlaybookError(f"{where}.{name} must be a list of non-empty texts ({FIELDS[name]})")
        elif name in ("triggers", "unless"):
            words_key = tuple((list_name, tuple(entries)) for list_name, entries in sorted(words.items()))
            checked[name] = [
                _compiled(f"{where}.{name}[{number}]", phrase, words_key) for number, phrase in enumerate(value, 1)
            ]
        else:
            checked[name] = [item.strip() for item in value]
    return checked


def _compiled(where: str, phrase: str, words_key: tuple) -> Pattern:
    try:
        return _compile_cached(phrase, words_key)
    except PatternError as error:
        raise PlaybookError(f"{where}: {error}") from None


@functools.lru_cache(maxsize=4096)
def _compile_cached(phrase: str, words_key: tuple) -> Pattern:
    # Every call compiles the same shipped triggers; patterns are immutable, so share them.
    return compile_pattern(phrase, {name: list(entries) for name, entries in words_key})


def _objection(where: str, category: str, fields: dict) -> Objection:
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if not any(name in fields for name in RECOGNISED_BY):
        missing.append(" or ".join(RECOGNISED_BY))
    if missing:
        raise PlaybookError(f"{where} is missing {', '.join(missing)}")
    return Objection(
        category=category,
        label=fields["label"],
        triggers=fields.get("triggers", []),
        responses=fields["responses"],
        follow_up=fields.get("follow_up"),
        unless=fields.get("unless", []),
        examples=fields.get("examples", []),
    )


def _is_list_of_text(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def resolve_path(path: str, profile_path: str) -> str:
    """A playbook path as written in a profile: ``~`` expanded, relative to the profile's folder."""
    path = os.path.expanduser(str(path))
    if not os.path.isabs(path) and profile_path and os.path.isfile(profile_path):
        return os.path.join(os.path.dirname(os.path.abspath(profile_path)), path)
    return path
