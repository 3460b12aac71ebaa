"""Calling the per-call hooks of one session's plugins, one plugin at a time.

Each implementation is called on its own so that one plugin that raises cannot
take the call down: it is reported once and switched off for the rest of the
session while the others go on. Slow implementations are reported too.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable


class HookDispatcher:
    def __init__(
        self,
        pm,
        enabled: Iterable[str],
        warn: Callable[[str], None],
        budget_seconds: float = 0.05,
    ):
        self.pm = pm
        self.enabled = set(enabled)
        self.disabled: set[str] = set()
        self.warn = warn
        self.budget_seconds = budget_seconds
        self.trace = bool(os.environ.get("VOICECOACH_TRACE_PLUGINS"))
        self.seconds_by_plugin: dict[str, float] = {}

    def enable(self, name: str) -> None:
        self.enabled.add(name)

    def call(self, hook_name: str, **kwargs) -> list[tuple[str, object]]:
        """Call ``hook_name`` on every enabled plugin; return ``(plugin, result)`` pairs."""
        results = []
        hook = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered implementation first; keep that order.
        for impl in reversed(hook.get_hookimpls()):
            name = impl.plugin_name
            if name not in self.enabled or name in self.disabled:
                continue
            arguments = {key: kwargs[key] for key in impl.argnames if key in kwargs}
            started = time.perf_counter()
            try:
                result = impl.function(**arguments)
            except Exception as error:
                self.disabled.add(name)
                detail = str(error).splitlines()[0] if str(error) else ""
                self.warn(
                    f"plugin {name} failed in {hook_name} ({type(error).__name__}: {detail}) "
                    "and is switched off for the rest of this call"
                )
                continue
            took = time.perf_counter() - started
            self.seconds_by_plugin[name] = self.seconds_by_plugin.get(name, 0.0) + took
            if self.trace:
                print(f"voicecoach trace: {hook_name} {name} {took * 1000:.2f} ms", file=sys.stderr)
            if took > self.budget_seconds:
                self.warn(
                    f"plugin {name} is slow: {hook_name} took {took * 1000:.0f} ms "
                    f"(budget {self.budget_seconds * 1000:.0f} ms)"
                )
            if result is not None:
                results.append((name, result))
        return results
