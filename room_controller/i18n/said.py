"""A sentence kept by its catalogue key and values, so it can be said later in any language.

`room-controller check` finds a problem before it knows (or while it cannot know) the room's language, and
prints it in that language at the end; English is the text wherever the sentence is used as a string. A
value may itself be a `Said` (a suggestion inside a problem), said in the same language.
"""

from __future__ import annotations

from dataclasses import dataclass

from room_controller import i18n


@dataclass(frozen=True)
class Said:
    key: str
    values: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, /, **values: object) -> Said:
        return cls(key, tuple(values.items()))

    def __str__(self) -> str:
        return self.in_language(i18n.DEFAULT)

    def in_language(self, tag: str) -> str:
        values = {k: v.in_language(tag) if isinstance(v, Said) else v for k, v in self.values}
        return i18n.translator(tag)(self.key, **values)


class SaidError(ValueError):
    """A ValueError whose message is a `Said` (pydantic keeps the exception, so `check` can translate it)."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.said = Said.of(key, **values)
        super().__init__(str(self.said))
