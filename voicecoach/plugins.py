"""Finding and loading plugins.

Built-in parts (the file source, the faster-whisper transcriber) are plugins in
``voicecoach.default_plugins`` and always load. Everything else, the bundled coaches
and sinks included, is found through the ``voicecoach`` entry-point group, filtered
by ``VOICECOACH_LOAD_PLUGINS``: unset loads all, empty loads none, ``a,b`` loads
only those entry-point names.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from importlib import metadata

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "voicecoach"

DEFAULT_PLUGINS = (
    "voicecoach.default_plugins.file_source",
    "voicecoach.default_plugins.device_source",
    "voicecoach.default_plugins.faster_whisper_transcriber",
)

pm = pluggy.PluginManager("voicecoach")
pm.add_hookspecs(hookspecs)

_loaded = False


class PluginError(Exception):
    """A plugin could not be loaded or does not keep the contract."""


def load_plugins() -> pluggy.PluginManager:
    """Load default and entry-point plugins once; later calls are no-ops."""
    global _loaded
    if _loaded:
        return pm
    _loaded = True
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name.rsplit(".", 1)[-1])
    wanted = os.environ.get("VOICECOACH_LOAD_PLUGINS")
    if wanted is None:
        _load_entry_points(None)
    elif wanted.strip():
        _load_entry_points({name.strip() for name in wanted.split(",") if name.strip()})
    check_hooks()
    if os.environ.get("VOICECOACH_TRACE_PLUGINS"):
        _trace_hook_calls()
    return pm


def check_hooks() -> None:
    """Fail loudly when a plugin implements a hook that does not exist (a typo)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"a plugin implements a hook that does not exist: {error}") from None


def _load_entry_points(names):
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if names is not None and entry_point.name not in names:
            continue
        if pm.get_plugin(entry_point.name) is not None or pm.is_blocked(entry_point.name):
            continue
        try:
            module = entry_point.load()
        except Exception as error:  # a broken third-party package must not stop the CLI
            print(
                f"voicecoach: plugin {entry_point.name!r} failed to load and is skipped: "
                f"{type(error).__name__}: {error}",
                file=sys.stderr,
            )
            continue
        pm.register(module, name=entry_point.name)
        if entry_point.dist is not None:
            _plugin_versions[entry_point.name] = entry_point.dist.version


_plugin_versions: dict[str, str] = {}


def plugin_version(name: str) -> str | None:
    """The installed version of the distribution that provides plugin ``name``."""
    if name in _plugin_versions:
        return _plugin_versions[name]
    if name in {module.rsplit(".", 1)[-1] for module in DEFAULT_PLUGINS}:
        from . import __version__

        return __version__
    return None


def get_plugins() -> list[dict]:
    """Every registered plugin with its hooks and version, sorted by name."""
    plugins = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        plugins.append({"name": name, "hooks": hooks, "version": plugin_version(name)})
    return sorted(plugins, key=lambda p: p["name"])


def is_default_plugin(name: str) -> bool:
    return name in {module.rsplit(".", 1)[-1] for module in DEFAULT_PLUGINS}


def _trace_hook_calls():
    starts = {}

    def before(hook_name, hook_impls, kwargs):
        starts[hook_name] = time.perf_counter()

    def after(outcome, hook_name, hook_impls, kwargs):
        took = (time.perf_counter() - starts.pop(hook_name, time.perf_counter())) * 1000
        names = ",".join(impl.plugin_name for impl in hook_impls)
        print(f"voicecoach trace: {hook_name} [{names}] {took:.2f} ms", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def _collect_registrations(hook_name: str, kind: str) -> dict:
    load_plugins()
    registered: dict = {}

    def register(name, factory):
        if name in registered:
            raise PluginError(f"two plugins register a {kind} named {name!r}")
        registered[name] = factory

    getattr(pm.hook, hook_name)(register=register)
    return registered


def get_sources() -> dict:
    """Audio source name -> factory, from every plugin's ``register_sources``."""
    return _collect_registrations("register_sources", "source")


def get_transcribers() -> dict:
    """Transcriber name -> factory, from every plugin's ``register_transcribers``."""
    return _collect_registrations("register_transcribers", "transcriber")
