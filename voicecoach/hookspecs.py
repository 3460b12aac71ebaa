"""The plugin contract: every hook VoiceCoach calls, and when.

Plugins implement these with ``@voicecoach.hookimpl``. Always expect keyword
arguments; an implementation may accept fewer arguments than declared here.

Order of the per-call hooks for one session::

    session_started -> (speech_activity | partial_transcript | transcript | clock_tick)*
        -> session_ending -> session_ended

with ``prompt_delivered`` and ``observed`` fired for whatever the plugins returned.
All per-call hooks run on one thread, in event order, so plugins need no locks.
A per-call hook that raises is reported once and that plugin is switched off for
the rest of the session; the call goes on.
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("voicecoach")
hookimpl = HookimplMarker("voicecoach")


@hookspec
def register_commands(cli):
    """Add extra click commands or groups to the ``voicecoach`` CLI group ``cli``.

    Called once when the CLI is built, after plugins are loaded.
    """


@hookspec
def register_sources(register):
    """Register audio source factories: ``register(name, factory)``.

    ``factory(**options)`` returns an :class:`voicecoach.AudioSource`. A profile or
    ``run`` chooses a source by name (built in: ``file``).
    """


@hookspec
def register_transcribers(register):
    """Register speech-to-text engines: ``register(name, factory)``.

    ``factory(model=None, **options)`` returns a :class:`voicecoach.Transcriber`;
    ``options`` are the profile's ``decoding:`` settings. A profile chooses one by
    name with ``transcriber:`` (built in: ``faster-whisper``).
    """


@hookspec
def session_started(session):
    """A coaching session begins; ``session`` is the :class:`voicecoach.Session`.

    Return an object (or a list of objects) carrying ``@hookimpl`` methods to have
    it registered for this session only and unregistered when it ends: the way stateful coaches and sinks
    (database connections, rolling windows) keep per-call state. Return None
    otherwise. Called only for plugins the session's profile enables.
    """


@hookspec
def speech_activity(session, activity):
    """A speaker started or stopped talking (``activity``: :class:`voicecoach.SpeechActivity`).

    Fired from voice activity detection, before the words are transcribed. May
    return a :class:`voicecoach.Prompt`, an :class:`voicecoach.Observation`, or a
    list of them.
    """


@hookspec
def transcript(session, utterance):
    """An utterance was transcribed (``utterance``: :class:`voicecoach.Utterance`).

    The main coaching hook. ``utterance.speaker`` is ``seller``, ``prospect`` or
    ``mixed``. May return a Prompt, an Observation, or a list of them.
    """


@hookspec
def partial_transcript(session, utterance):
    """Early text of an utterance still being spoken (live calls only).

    While there is CPU to spare, a long utterance (over about 2 s) is transcribed
    about once a second as it goes on, so a coach can react before the speaker
    stops. ``utterance.partial`` is True and ``utterance.id`` is the id the final
    utterance will carry: a plugin that prompts here should remember what it
    prompted for that id and not prompt again from ``transcript`` (arbitration
    also drops a second prompt with the same ``kind`` and ``key``). The text may
    change; the final ``transcript`` replaces it. Only coaches that must be fast
    need this hook; sinks should log finals only. May return Prompts or Observations.
    """


@hookspec
def clock_tick(session, now):
    """About once a second of session time; ``now`` is the session time.

    For coaching that depends on time passing without words (long silences, a
    presentation running past its limit). May return Prompts or Observations.
    """


@hookspec
def prompt_delivered(session, prompt):
    """A prompt survived arbitration and should reach the seller now.

    Sinks (terminal, desktop notifications, the log) implement this. ``prompt``
    carries ``plugin``, ``at`` (session time) and ``latency``. Return value ignored.
    """


@hookspec
def prompt_feedback(session, prompt, useful):
    """The seller rated the prompt on screen: ``useful`` is True or False.

    Sent when the seller presses ``+`` or ``-`` in the terminal during a call;
    ``prompt`` is the last one delivered. The log records it and reports show
    usefulness per plugin; a coach may also learn from it. Return value ignored.
    """


@hookspec
def observed(session, observation):
    """A plugin returned an :class:`voicecoach.Observation`; sinks may record it."""


@hookspec
def session_ending(session, now):
    """The call is over, and sinks are still open: last words from the coaches.

    ``now`` is the session time of the end. Return the Prompts or Observations
    that only the end of a call can produce (a talk-ratio summary, objections
    never answered); they are delivered and logged before ``session_ended``.
    """


@hookspec
def session_ended(session, summary):
    """The session is over; ``summary`` is a :class:`voicecoach.SessionSummary`.

    Sinks flush and close here. Return value ignored: return final results from
    ``session_ending`` instead.
    """
