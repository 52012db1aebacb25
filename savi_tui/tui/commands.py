"""The command palette offers every key of the current screen, in words (Posting-style)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenActionsProvider(Provider):
    """One command per described, enabled binding of the screen the palette was opened on."""

    def _commands(self):
        seen = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled:
                continue
            name = binding.tooltip or binding.description
            if name in seen:
                continue
            seen.add(name)
            key_display = binding.key_display or self.app.get_key_display(binding)
            callback = partial(self.app.run_action, binding.action, active.node)
            yield name, f"key: {key_display}", callback

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
