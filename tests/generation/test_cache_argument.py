"""The scheduler passes the KV cache under the name the installed transformers uses."""

from __future__ import annotations

from typing import Any

from bot.generation.scheduler import cache_argument


class NewModel:
    def forward(self, input_ids: Any = None, cache: Any = None, **kwargs: Any) -> None: ...


class OldModel:
    def forward(
        self, input_ids: Any = None, past_key_values: Any = None, **kwargs: Any
    ) -> None: ...


class Wrapped:
    """A peft-style wrapper whose own forward takes anything."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def get_base_model(self) -> Any:
        return self._base

    def forward(self, *args: Any, **kwargs: Any) -> None: ...


def test_the_name_is_read_from_the_models_forward() -> None:
    assert cache_argument(NewModel()) == "cache"
    assert cache_argument(OldModel()) == "past_key_values"
    assert cache_argument(Wrapped(NewModel())) == "cache"
    assert cache_argument(Wrapped(OldModel())) == "past_key_values"
