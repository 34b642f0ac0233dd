"""YAML with bounds: size, nesting depth and alias use are limited before anything is built.

PyYAML's ``safe_load`` refuses arbitrary objects but not resource bombs: nine
aliases per level expand a 354-byte front matter into a 312-million-character
title once the value is turned into text, and 500 nested ``[`` raise
``RecursionError`` from its recursive composer, which escaped every ``except``
and aborted a whole ingest.  ``load_bounded`` stops both while composing: the
depth is counted on the way down (far below Python's recursion limit) and each
alias costs from a small budget, so a bounded document stays bounded when
expanded.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent


class YAMLBoundsError(ValueError):
    """The YAML is well-formed but over a bound; the message names the bound and what to do."""


def load_bounded(text: str, *, max_chars: int, max_depth: int = 20, max_aliases: int = 20) -> Any:
    """``yaml.safe_load(text)`` within bounds; raises ``YAMLBoundsError`` or ``yaml.YAMLError``."""
    if len(text) > max_chars:
        raise YAMLBoundsError(f"{len(text):,} characters, over the {max_chars:,}-character limit — shorten it")
    loader = _BoundedLoader(text, max_depth=max_depth, max_aliases=max_aliases)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > 2 * max_chars:
            raise YAMLBoundsError(f"its aliases expand it past {2 * max_chars:,} characters — write the values out")
        return loader.construct_document(node)
    except RecursionError as err:  # a safety net: the depth bound should have stopped it first
        raise YAMLBoundsError("nested too deeply — flatten it") from err
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, memo: dict[int, int], path: set[int]) -> int:
    """Characters the node stands for once every alias is written out (an alias costs its target again)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in path:
        raise YAMLBoundsError("an alias refers to the value that contains it — write the values out")
    if isinstance(node, yaml.ScalarNode):
        size = len(node.value) + 1
    else:
        path.add(key)
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
        size = 1 + sum(_expanded_size(n, memo, path) for n in children)
        path.discard(key)
    memo[key] = size
    return size


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: str, *, max_depth: int, max_aliases: int) -> None:
        super().__init__(stream)
        self._depth = 0
        self._max_depth = max_depth
        self._aliases_left = max_aliases
        self._max_aliases = max_aliases

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            self._aliases_left -= 1
            if self._aliases_left < 0:
                raise YAMLBoundsError(f"uses more than {self._max_aliases} aliases (*name) — write the values out")
        self._depth += 1
        if self._depth > self._max_depth:
            raise YAMLBoundsError(f"nested more than {self._max_depth} levels deep — flatten it")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
