"""The library API the CLI is a thin layer over: coach a call from a profile.

    from voicecoach.coach import coach_recording
    summary = coach_recording("demo", input="call.wav")
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterable, Optional

from .pipeline import Pipeline, PipelineError
from .plugins import get_sources, get_transcribers, load_plugins
from .profiles import Profile, load_profile
from .script import ScriptSource, load_transcript_file, utterance_events
from .session import SessionSummary


class NoSpeechError(Exception):
    """The audio held no speech at all; the session is still logged."""


def installed_plugin_names() -> set[str]:
    pm = load_plugins()
    return {pm.get_name(plugin) for plugin in pm.get_plugins()}


def resolve_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    return load_profile(profile, known_plugins=installed_plugin_names())


def make_transcriber(profile: Profile, model: Optional[str] = None):
    transcribers = get_transcribers()
    name = profile.transcriber
    if name not in transcribers:
        raise PipelineError(
            f"{profile.path}: transcriber {name!r} is not installed; installed: {', '.join(sorted(transcribers))}"
        )
    # The profile's `decoding:` settings, as keywords the engine's factory takes.
    try:
        return transcribers[name](model=model or profile.model, **profile.decoding)
    except ValueError as error:
        raise PipelineError(f"{profile.path}: decoding: {error}") from None


def coach_recording(
    profile: str | Profile,
    *,
    input: Optional[str] = None,
    seller: Optional[str] = None,
    prospect: Optional[str] = None,
    realtime: bool = False,
    model: Optional[str] = None,
    db_path: Optional[str] = None,
    transcriber=None,
    transcriber_factory=None,
    plugins: Iterable[object] = (),
    warn=None,
    controls=None,
) -> SessionSummary:
    """Coach a recorded call (one stereo or mono file, or two files) with ``profile``.

    ``transcriber_factory`` makes a fresh engine if the running one fails (by
    default: the profile's engine, when no ``transcriber`` is given). ``controls``
    (a :class:`voicecoach.keys.CallControls`) is handed the running pipeline.
    """
    profile = resolve_profile(profile)
    sources = get_sources()
    source = sources["file"](input=input, seller=seller, prospect=prospect, realtime=realtime)
    if transcriber is None:
        transcriber_factory = transcriber_factory or (lambda: make_transcriber(profile, model))
        transcriber = transcriber_factory()
    pipeline = Pipeline(
        source, transcriber, profile, db_path=db_path, plugins=plugins, warn=warn,
        transcriber_factory=transcriber_factory,
    )
    if controls is not None:
        controls.pipeline = pipeline
    with _stop_on_signals(pipeline):
        summary = pipeline.run()
    if summary.status == "ended" and summary.utterances == 0:
        raise NoSpeechError(
            f"no speech found in {input or f'{seller} and {prospect}'}: check the recording is "
            "not silent and that it is the right file"
        )
    return summary


def coach_transcript(
    profile: str | Profile,
    path: str,
    *,
    db_path: Optional[str] = None,
    plugins: Iterable[object] = (),
    warn=None,
) -> SessionSummary:
    """Text-only mode: drive the same hooks from a YAML transcript, no audio, no model."""
    profile = resolve_profile(profile)
    utterances = load_transcript_file(path)
    pipeline = Pipeline(ScriptSource(utterances, path), None, profile, db_path=db_path, plugins=plugins, warn=warn)
    return pipeline.run_events(utterance_events(utterances))


def coach_live(
    profile: str | Profile,
    *,
    seller_device: Optional[str] = None,
    prospect_device: Optional[str] = None,
    duration: Optional[float] = None,
    model: Optional[str] = None,
    db_path: Optional[str] = None,
    transcriber=None,
    transcriber_factory=None,
    plugins: Iterable[object] = (),
    warn=None,
    source_options: Optional[dict] = None,
    record_path: Optional[str] = None,
    controls=None,
) -> SessionSummary:
    """Coach a live call from the profile's devices (or the ones given) until stopped.

    Ctrl-C, SIGTERM and SIGHUP stop capturing; what was captured is still
    transcribed, coached and logged before this returns. Audio is written to
    disk only when ``record_path`` is given (a WAV file: seller left, prospect right).
    """
    profile = resolve_profile(profile)
    sources = get_sources()
    if profile.source not in sources:
        raise PipelineError(
            f"{profile.path}: source {profile.source!r} is not installed; installed: {', '.join(sorted(sources))}"
        )
    source = sources[profile.source](
        seller=seller_device or profile.devices.get("seller"),
        prospect=prospect_device or profile.devices.get("prospect"),
        capture=profile.capture,
        allow_fallback=profile.fallback_to_mic_only,
        duration=duration,
        **(source_options or {}),
    )
    if transcriber is None:
        transcriber_factory = transcriber_factory or (lambda: make_transcriber(profile, model))
        transcriber = transcriber_factory()
    pipeline = Pipeline(
        source, transcriber, profile, db_path=db_path, plugins=plugins, warn=warn,
        transcriber_factory=transcriber_factory, record_path=record_path,
    )
    if controls is not None:
        controls.pipeline = pipeline
    with _stop_on_signals(pipeline):
        return pipeline.run()


@contextmanager
def _stop_on_signals(pipeline):
    """Ctrl-C (and q), SIGTERM and closing the terminal (SIGHUP) stop capturing, and
    the call is transcribed, coached and logged to its end: an exception raised in
    the middle of a hook could lose the record being written. A second Ctrl-C
    interrupts as Ctrl-C always did. A signal ignored at start (nohup) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.getsignal(number) for number in handled}
    previous = {number: handler for number, handler in previous.items() if handler is not signal.SIG_IGN}
    stopped = []

    def stop(number, frame):
        if number == signal.SIGINT and stopped:
            raise KeyboardInterrupt
        stopped.append(number)
        pipeline.stop()

    for number in previous:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
