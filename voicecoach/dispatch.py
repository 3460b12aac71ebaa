"""Calling the per-call hooks of one session's plugins, one plugin at a time.

Each implementation is called on its own so that one plugin that raises cannot
take the call down: it is reported once and switched off for the rest of the
session while the others go on. A plugin slower than the budget is reported once
and from then on called after the others, whose results are handed on before it
runs, so a slow plugin does not hold back anyone else's prompts.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable

# Setting up and closing down happen before and after the call's audio: loading
# a playbook or opening a database there delays no prompt, so they get longer.
SETUP_HOOKS = {"session_started", "session_ending", "session_ended"}
SETUP_BUDGET_SECONDS = 1.0


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
        self.slow: set[str] = set()

    def enable(self, name: str) -> None:
        self.enabled.add(name)

    def call(self, hook_name: str, before_slow: Callable | None = None, **kwargs) -> list[tuple[str, object]]:
        """Call ``hook_name`` on every enabled plugin; return ``(plugin, result)`` pairs.

        With ``before_slow``, the results so far are handed to it (and not returned)
        before the first plugin known to be slow is called.
        """
        results = []
        handed_on = before_slow is None
        hook = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered implementation first; keep that order,
        # with plugins known to be slow last.
        impls = list(reversed(hook.get_hookimpls()))
        impls.sort(key=lambda impl: impl.plugin_name in self.slow)
        for impl in impls:
            name = impl.plugin_name
            if name not in self.enabled or name in self.disabled:
                continue
            if not handed_on and name in self.slow:
                handed_on = True
                before_slow(results)
                results = []
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
            budget = SETUP_BUDGET_SECONDS if hook_name in SETUP_HOOKS else self.budget_seconds
            if took > budget and name not in self.slow:
                if hook_name not in SETUP_HOOKS:
                    self.slow.add(name)
                self.warn(
                    f"plugin {name} is slow: {hook_name} took {took * 1000:.0f} ms "
                    f"(budget {budget * 1000:.0f} ms); it now runs after the other plugins"
                )
            if result is not None:
                results.append((name, result))
        return results
