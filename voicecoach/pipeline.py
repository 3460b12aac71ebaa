"""The coaching pipeline: audio -> voice activity -> transcription -> plugins -> sinks.

Four threads joined by bounded queues, the way a live device needs them:

* capture: pulls chunks from the source (a live callback's queue, or a file);
* endpointing: runs Silero VAD per speaker, emits speech activity, cuts utterances;
* transcription: decodes utterances, the prospect's first (their words trigger
  most prompts);
* dispatch (the calling thread): calls the plugins' hooks in event order,
  arbitrates their prompts and hands the survivors to the sinks.

A recorded file and a live device feed the same code, so a test on a file tests
the live path.
"""

from __future__ import annotations

import collections
import itertools
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Optional

from .arbitration import Arbiter, ArbitrationSettings
from .audio import SAMPLE_RATE, AudioSource
from .bleed import BleedCanceller, SellerBleedFilter
from .dispatch import HookDispatcher
from .events import PROSPECT, SELLER, Observation, Prompt, PromptLatency, SpeechActivity, Utterance, UtteranceTiming
from .plugins import load_plugins
from .recording import AudioRecorder
from .redaction import redact
from .session import Session, SessionSummary
from .transcription import Said, Transcriber, clean_transcript, is_hallucination, transcribe_in_context
from .vad import EndpointSettings, Endpointer, Segment

TICK_SECONDS = 1.0
# The dispatch thread (the main thread) wakes this often even with no events.
WAKE_SECONDS = 0.25
_END = object()
# Queue order: the prospect's words, then the seller's, then partial transcripts.
PARTIAL_PRIORITY = 2
# Partial transcripts only while the transcriber was busy less than this share
# of the last HEADROOM_WINDOW seconds: they must never make the coach fall behind.
HEADROOM_WINDOW = 5.0
MAX_BUSY_FOR_PARTIALS = 0.5
# Each speaker's last utterances kept for an engine that hears new ones in context.
CONTEXT_UTTERANCES = 8
# A replay decoding speakers in parallel has at most this many utterances decoding or
# waiting to be passed on in call order: enough to keep both speakers' threads busy,
# few enough that no speaker runs far ahead of the call.
MAX_DECODING = 4
# A speech engine that keeps failing after this many restarts is given up on.
MAX_TRANSCRIBER_RESTARTS = 3


@dataclass
class _Tick:
    now: float


@dataclass
class _Feedback:
    prompt: Prompt
    useful: bool


@dataclass
class _Failure:
    error: BaseException


class PipelineError(Exception):
    """The pipeline could not go on; the message says why."""


def run_session(
    source: AudioSource,
    transcriber: Optional[Transcriber],
    profile,
    *,
    db_path: Optional[str] = None,
    plugins: Iterable[object] = (),
    warn=None,
    transcriber_factory=None,
) -> SessionSummary:
    """Coach one call from ``source`` with ``profile``'s plugins; return its summary.

    ``plugins`` are extra plugin objects enabled for this session only (tests,
    applications embedding VoiceCoach).
    """
    pipeline = Pipeline(
        source, transcriber, profile, db_path=db_path, plugins=plugins, warn=warn,
        transcriber_factory=transcriber_factory,
    )
    return pipeline.run()


class Pipeline:
    """One call's run. ``transcriber_factory`` (no arguments) makes a fresh speech
    engine when the running one fails; without it a failed utterance is skipped."""

    def __init__(self, source, transcriber, profile, *, db_path=None, plugins=(), warn=None,
                 transcriber_factory=None, record_path=None):
        self.pm = load_plugins()
        self.source = source
        self.transcriber = transcriber
        self.transcriber_factory = transcriber_factory
        self.restarts = 0
        self._restarting = threading.Lock()
        self.profile = profile
        self.session = Session(
            profile,
            speakers=source.speakers,
            source=source.describe(),
            transcriber=getattr(transcriber, "description", ""),
            db_path=db_path,
            warn=warn,
            live=bool(getattr(source, "live", False)),
        )
        if hasattr(source, "bind"):
            source.bind(self.session)
        self.endpoint_settings = _endpoint_settings(profile)
        self.arbiter = Arbiter(ArbitrationSettings.from_dict(profile.arbitration))
        self.dispatcher = HookDispatcher(self.pm, profile.plugins.keys(), self.session.warn)
        self._extra_plugins = list(plugins)
        self._session_objects: list[str] = []
        self._audio_queue: queue.Queue = queue.Queue(maxsize=256)
        self._segment_queue: queue.PriorityQueue = queue.PriorityQueue(maxsize=64)
        self._events: queue.Queue = queue.Queue()
        self._order = itertools.count()
        self._stopping = threading.Event()
        self.talk_seconds = {speaker: 0.0 for speaker in source.speakers}
        self.utterance_count = 0
        self.early_hits = 0
        self.partial_count = 0
        self.bleed_stats = None  # what the seller's bleed filter found, when it ran
        self._capture_delays: collections.deque = collections.deque(maxlen=20000)
        self._busy: collections.deque = collections.deque(maxlen=64)  # (start, end) of decodes
        self._latest_partial: dict[tuple, float] = {}
        self._finished_keys: dict[tuple, bool] = {}
        self._utterance_ids: dict[tuple, int] = {}
        # What each speaker said last (audio and text), for engines that take context.
        self._said: dict[str, collections.deque] = {
            speaker: collections.deque(maxlen=CONTEXT_UTTERANCES) for speaker in source.speakers
        }
        # Live, the prospect's words go first to the transcriber: they trigger most
        # prompts. A fast replay keeps strict time order instead, since there the
        # queue is always full and priority would reorder the whole conversation.
        self._prospect_first = bool(getattr(source, "live", False) or getattr(source, "realtime", False))
        self.delivered: list[Prompt] = []
        self.failure: Optional[BaseException] = None
        # Audio is written to disk only when asked (run --record).
        self.recorder = AudioRecorder(record_path, source.speakers, warn=self.session.warn) if record_path else None

    # -- setup and teardown ---------------------------------------------------

    def _register_session_plugins(self):
        for index, plugin in enumerate(self._extra_plugins):
            name = f"session-plugin-{index}-{self.session.id[:8]}"
            self.pm.register(plugin, name=name)
            self._session_objects.append(name)
            self.dispatcher.enable(name)
        for owner, result in self.dispatcher.call("session_started", session=self.session):
            for plugin in result if isinstance(result, (list, tuple)) else [result]:
                name = f"{owner}:{self.session.id[:8]}:{len(self._session_objects)}"
                self.pm.register(plugin, name=name)
                self._session_objects.append(name)
                self.dispatcher.enable(name)
                # A stateful plugin object starts with the session too.
                self._call_one(name, "session_started")

    def _call_one(self, name, hook_name):
        enabled = self.dispatcher.enabled
        self.dispatcher.enabled = {name}
        try:
            self.dispatcher.call(hook_name, session=self.session)
        finally:
            self.dispatcher.enabled = enabled

    def _unregister_session_plugins(self):
        for name in self._session_objects:
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                self.pm.unregister(plugin)
        self._session_objects = []

    # -- the run ----------------------------------------------------------------

    def run(self) -> SessionSummary:
        """Run the call from the audio source to its end (or Ctrl-C)."""
        started = time.monotonic()
        if self.transcriber is not None:
            self.transcriber.warm_up()
        self._register_session_plugins()
        threads = [
            threading.Thread(target=self._capture, name="voicecoach-capture", daemon=True),
            threading.Thread(target=self._endpoint, name="voicecoach-vad", daemon=True),
            threading.Thread(target=self._transcribe, name="voicecoach-transcribe", daemon=True),
        ]
        for thread in threads:
            thread.start()
        status = "ended"
        try:
            self._dispatch_until_done()
            if self._stopping.is_set() and not self.session.live:
                status = "interrupted"  # a replay stopped before its end (Ctrl-C, q, SIGTERM, SIGHUP)
        except KeyboardInterrupt:
            # Ctrl-C (or q) is how a live call normally ends; a replay cut short is not.
            status = "ended" if self.session.live else "interrupted"
            self.stop()
            self._dispatch_until_done()
        finally:
            self.stop()
            for thread in threads:
                thread.join(timeout=5)
            if self.recorder is not None:
                self.recorder.close()
        return self._finish(status, started)

    def run_events(self, events: Iterable[object]) -> SessionSummary:
        """Run the session on ready-made events (text-only mode): no audio, no model.

        Events are :class:`SpeechActivity` and :class:`Utterance` objects in time
        order; clock ticks are generated between them.
        """
        started = time.monotonic()
        self._register_session_plugins()
        next_tick = TICK_SECONDS
        for event in events:
            event_time = event.end if getattr(event, "end", None) is not None else event.start
            while next_tick <= event_time:
                self.dispatch(_Tick(next_tick))
                next_tick += TICK_SECONDS
            self.dispatch(event)
            self._dispatch_pending_feedback()
        return self._finish("ended", started)

    def _finish(self, status, started) -> SessionSummary:
        self._report_bleed()
        results = self.dispatcher.call("session_ending", session=self.session, now=self.session.now)
        self._collect(results, trigger=None)
        self._deliver(self.arbiter.flush(self.session.now))
        if self.failure is not None:
            status = "failed"
        summary = SessionSummary(
            session_id=self.session.id,
            profile=self.profile.name,
            status=status,
            duration=self.session.now,
            utterances=self.utterance_count,
            talk_seconds=dict(self.talk_seconds),
            prompts=list(self.delivered),
            db_path=self.session.db_path,
            processing_seconds=time.monotonic() - started,
            error=_one_line(self.failure) if self.failure else None,
            stats=self._stats(),
        )
        self._dispatch_pending_feedback()
        try:
            self.dispatcher.call("session_ended", session=self.session, summary=summary)
        finally:
            self._unregister_session_plugins()
        if self.failure is not None:
            raise self.failure
        return summary

    def _stats(self) -> dict:
        stats = {
            "partials": self.partial_count,
            "early_decodes_used": self.early_hits,
            "transcriber_restarts": self.restarts,
        }
        if self._capture_delays:
            delays = sorted(self._capture_delays)
            stats["capture_to_vad_p50"] = round(delays[len(delays) // 2], 4)
            stats["capture_to_vad_p95"] = round(delays[int(len(delays) * 0.95)], 4)
            stats["capture_to_vad_max"] = round(delays[-1], 4)
        return stats

    def _dispatch_pending_feedback(self):
        """Ratings pressed as the call ended still reach the log."""
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, _Feedback):
                self.dispatch(event)

    def _report_bleed(self):
        stats = self.bleed_stats
        if stats is None or not stats.active:
            return
        self.session.warn(
            f"your microphone picked up the call's audio ({stats.gain_db:+.0f} dB): it was removed "
            "from your side of the transcript; headphones avoid it"
        )
        observation = Observation(
            kind="bleed", value=round(stats.gain_db, 1), at=self.session.now, plugin="voicecoach",
            data={"lag_ms": stats.lag_ms, "removed_db": round(stats.erle_db, 1),
                  "frames_cleaned": stats.frames_cleaned, "frames": stats.frames},
        )
        self.dispatcher.call("observed", session=self.session, observation=observation)

    def feedback(self, useful: bool) -> None:
        """The seller rated the prompt on screen (any thread; e.g. a key press)."""
        if self.delivered:  # the prompt on screen at the moment of the key press
            self._events.put(_Feedback(self.delivered[-1], bool(useful)))

    def stop(self) -> None:
        """Stop capturing; what was captured is still transcribed and coached."""
        self._stopping.set()
        self.source.stop()

    def _capture(self):
        try:
            for chunk in self.source.chunks():
                self._audio_queue.put(chunk)
                if self.recorder is not None:
                    self.recorder.add(chunk.speaker, chunk.samples, chunk.start)
                if self._stopping.is_set():
                    break
        except BaseException as error:  # reported on the dispatch thread
            self._audio_queue.put(_Failure(error))
        self._audio_queue.put(_END)

    def _endpoint(self):
        endpointers = {
            speaker: Endpointer(speaker, self.endpoint_settings) for speaker in self.source.speakers
        }
        bleed = self._bleed_filter()
        next_tick = TICK_SECONDS
        last_arrival = time.monotonic()

        def feed(speaker, samples, start, arrived_at):
            events = endpointers[speaker].feed(samples, start, arrived_at)
            self._handle_endpoint_events(speaker, events)

        while True:
            item = self._audio_queue.get()
            if item is _END:
                break
            if isinstance(item, _Failure):
                self._events.put(item)
                continue
            last_arrival = item.arrived_at
            if bleed is not None and item.speaker in (SELLER, PROSPECT):
                # The seller's microphone is heard only once cleaned of the
                # prospect's voice leaking from the speakers.
                at = round(item.start * SAMPLE_RATE)
                if item.speaker == PROSPECT:
                    feed(PROSPECT, item.samples, item.start, item.arrived_at)
                    ready = bleed.prospect(item.samples, at)
                else:
                    ready = bleed.seller(item.samples, at)
                for samples, start in ready:
                    feed(SELLER, samples, start / SAMPLE_RATE, item.arrived_at)
            else:
                feed(item.speaker, item.samples, item.start, item.arrived_at)
            if self._prospect_first:  # live or paced: the delay a seller would feel
                self._capture_delays.append(time.monotonic() - item.arrived_at)
            if item.end >= next_tick:
                self._events.put(_Tick(item.end))
                next_tick = item.end + TICK_SECONDS
        if bleed is not None:
            for samples, start in bleed.flush():
                feed(SELLER, samples, start / SAMPLE_RATE, last_arrival)
            self.bleed_stats = bleed.stats
        for speaker, endpointer in endpointers.items():
            self._handle_endpoint_events(speaker, endpointer.flush(last_arrival))
        self._segment_queue.put((99, next(self._order), None))

    def _bleed_filter(self) -> Optional[SellerBleedFilter]:
        if not self.profile.remove_bleed or not {SELLER, PROSPECT} <= set(self.source.speakers):
            return None
        # Live device clocks line up only to tens of milliseconds, and a lost
        # prospect device must not hold the seller back for long.
        if self.session.live:
            return SellerBleedFilter(BleedCanceller(lead=0.05), max_wait=0.3)
        return SellerBleedFilter(BleedCanceller())

    def _handle_endpoint_events(self, speaker, events):
        if events.started is not None:
            self._events.put(SpeechActivity(speaker=speaker, start=events.started))
        # Early and partial decoding only while the transcriber has nothing else
        # waiting: they must never delay a confirmed utterance. Fast replays skip
        # both: there they save nothing and would make the text depend on timing.
        for segment in events.provisional:
            if self._prospect_first and self._segment_queue.empty():
                self._segment_queue.put((self._priority(segment), next(self._order), segment))
        for segment in events.partials:
            if self._prospect_first and self._segment_queue.empty() and self._headroom():
                self._latest_partial[(segment.speaker, segment.start)] = segment.end
                self._segment_queue.put((PARTIAL_PRIORITY, next(self._order), segment))
        for segment in events.segments:
            self._events.put(SpeechActivity(speaker=speaker, start=segment.start, end=segment.end))
            self._segment_queue.put((self._priority(segment), next(self._order), segment))

    def _priority(self, segment) -> int:
        return 0 if (segment.speaker == PROSPECT or not self._prospect_first) else 1

    def _headroom(self) -> bool:
        """Whether the transcriber was busy less than half of the last few seconds."""
        window_start = time.monotonic() - HEADROOM_WINDOW
        busy = sum(end - max(start, window_start) for start, end in self._busy if end > window_start)
        return busy < HEADROOM_WINDOW * MAX_BUSY_FOR_PARTIALS

    def _transcribe(self):
        if self._speakers_in_parallel():
            self._transcribe_speakers_in_parallel()
            return
        early: dict[tuple, tuple] = {}  # (speaker, start) -> (end, decoded utterance or None)
        while True:
            _priority, _order, segment = self._segment_queue.get()
            if segment is None:
                break
            try:
                self._transcribe_queued(segment, early)
            except Exception as error:  # a bug must not stop transcription for the call
                self.session.warn(f"transcription of one utterance failed and it was skipped: {_one_line(error)}")
        self._events.put(_END)

    def _speakers_in_parallel(self) -> bool:
        """Whether each speaker's utterances are decoded on their own thread: in a replay
        as fast as it goes (the queue is always full), by an engine that can run two
        decodes at once. Each speaker's context stays in order."""
        return (not self._prospect_first and len(self.source.speakers) > 1
                and getattr(self.transcriber, "concurrent_decodes", 1) > 1)

    def _transcribe_speakers_in_parallel(self):
        workers = {
            speaker: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"voicecoach-transcribe-{speaker}")
            for speaker in self.source.speakers
        }
        decoding: collections.deque = collections.deque()  # in call order

        def pass_on(decoded):
            utterance = decoded.result()
            if utterance is not None:
                self._events.put(utterance)

        try:
            while True:
                try:
                    _priority, _order, segment = self._segment_queue.get(timeout=WAKE_SECONDS if decoding else None)
                except queue.Empty:  # no new utterance: wait for the earliest decode instead
                    pass_on(decoding.popleft())
                    continue
                if segment is None:
                    break
                # Passed on in call order: as soon as the earliest is done, or when too many wait.
                while decoding and (decoding[0].done() or len(decoding) >= MAX_DECODING):
                    pass_on(decoding.popleft())
                decoding.append(workers[segment.speaker].submit(self._transcribe_final, segment))
            while decoding:
                pass_on(decoding.popleft())
        finally:
            for worker in workers.values():
                worker.shutdown(wait=True)
            self._events.put(_END)

    def _transcribe_final(self, segment: Segment) -> Optional[Utterance]:
        """One final utterance of a fast replay (a speaker's own thread); None if nothing
        was heard. A failure skips the utterance, never the call."""
        try:
            utterance = self._transcribe_segment(segment)
        except Exception as error:
            self.session.warn(f"transcription of one utterance failed and it was skipped: {_one_line(error)}")
            return None
        if utterance is not None:
            self._said[segment.speaker].append(Said(segment.samples, utterance.text))
        return utterance

    def _transcribe_queued(self, segment: Segment, early: dict):
        key = (segment.speaker, segment.start)
        if segment.partial:
            # Stale: the utterance ended, or a longer partial of it is already queued.
            if key in self._finished_keys or self._latest_partial.get(key, segment.end) > segment.end:
                return
            utterance = self._transcribe_segment(segment)
            if utterance is not None:
                utterance.partial = True
                utterance.id = self._utterance_ids.setdefault(key, utterance.id)
                self.partial_count += 1
                self._events.put(utterance)
            return
        if segment.provisional:
            early[key] = (segment.end, self._transcribe_segment(segment))
            return
        self._finished_keys[key] = True
        while len(self._finished_keys) > 256:
            self._finished_keys.pop(next(iter(self._finished_keys)))
        self._latest_partial.pop(key, None)
        decoded = early.pop(key, None)
        if decoded is not None and decoded[0] == segment.end:
            # Speech did not resume: the early decode is the final text.
            utterance = decoded[1]
            if utterance is not None:
                utterance.timing.endpointed_at = segment.endpointed_at
                utterance.timing.transcribed_at = max(utterance.timing.transcribed_at, time.monotonic())
                self.early_hits += 1
        else:
            utterance = self._transcribe_segment(segment)
        if utterance is not None:
            # The final text carries the id its partials had, so coaches see one utterance.
            utterance.id = self._utterance_ids.pop(key, utterance.id)
            self._said[segment.speaker].append(Said(segment.samples, utterance.text))
            self._events.put(utterance)

    def _transcribe_segment(self, segment: Segment) -> Optional[Utterance]:
        timing = UtteranceTiming(
            speech_ended_at=segment.speech_ended_at,
            endpointed_at=segment.endpointed_at,
            transcription_started_at=time.monotonic(),
        )
        try:
            result = self._run_transcriber(segment.samples, self._said.get(segment.speaker, ()))
        except Exception as error:
            self.session.warn(f"transcription failed for one utterance and it was skipped: {_one_line(error)}")
            return None
        timing.transcribed_at = time.monotonic()
        self._busy.append((timing.transcription_started_at, timing.transcribed_at))
        if is_hallucination(result, segment.end - segment.start):
            return None
        return Utterance(
            speaker=segment.speaker,
            text=clean_transcript(result.text),
            start=round(segment.start, 3),
            end=round(segment.end, 3),
            confidence=result.confidence,
            timing=timing,
        )

    def _run_transcriber(self, samples, context=()):
        """Transcribe (with the speaker's earlier utterances, where the engine takes them),
        restarting a failed speech engine once and retrying the same audio."""
        transcriber = self.transcriber
        try:
            return transcribe_in_context(transcriber, samples, context)
        except Exception as error:
            with self._restarting:
                if self.transcriber is transcriber:  # not restarted meanwhile by another speaker's thread
                    if self.transcriber_factory is None or self.restarts >= MAX_TRANSCRIBER_RESTARTS:
                        raise
                    self.restarts += 1
                    self.session.warn(
                        f"the speech engine failed ({_one_line(error)}); restarting it, no audio is lost"
                    )
                    self.transcriber = self.transcriber_factory()
                    self.transcriber.warm_up()
            return transcribe_in_context(self.transcriber, samples, context)

    # -- dispatch ---------------------------------------------------------------

    def _dispatch_until_done(self):
        while True:
            try:
                event = self._events.get(timeout=WAKE_SECONDS)
            except queue.Empty:
                # Nothing to dispatch (the audio stopped arriving): waking up lets a
                # pending q, Ctrl-C or SIGTERM handler run, which a blocked wait never does.
                continue
            if event is _END:
                return
            self.dispatch(event)

    def dispatch(self, event) -> None:
        """Send one event to the plugins and deliver the prompts that are due."""
        if isinstance(event, _Feedback):
            self.dispatcher.call("prompt_feedback", session=self.session, prompt=event.prompt, useful=event.useful)
            return
        if isinstance(event, _Failure):
            if self.failure is None:
                self.failure = event.error
            self.stop()
            return
        if isinstance(event, Utterance) and self.profile.redact:
            # Before any plugin or sink sees the words.
            event.text = redact(event.text)
        if isinstance(event, SpeechActivity):
            if event.end is not None:
                self.talk_seconds[event.speaker] = self.talk_seconds.get(event.speaker, 0.0) + event.duration
                self.session.now = max(self.session.now, event.end)
            self._call_coaches("speech_activity", None, activity=event)
        elif isinstance(event, Utterance) and event.partial:
            self._call_coaches("partial_transcript", event, utterance=event)
        elif isinstance(event, Utterance):
            self.utterance_count += 1
            self.session.now = max(self.session.now, event.end)
            self._call_coaches("transcript", event, utterance=event)
        elif isinstance(event, _Tick):
            self.session.now = max(self.session.now, event.now)
            self._call_coaches("clock_tick", None, now=event.now)
        self._deliver_due()

    def _collect(self, results, trigger: Optional[Utterance]):
        for owner, result in results:
            self._collect_one(owner, result, trigger)

    def _call_coaches(self, hook_name: str, trigger: Optional[Utterance], **kwargs) -> None:
        """Call a coaching hook; what the plugins returned is arbitrated, and the due
        prompts go out before any plugin known to be slow is called."""

        def before_slow(results):
            self._collect(results, trigger)
            self._deliver_due()

        results = self.dispatcher.call(hook_name, before_slow=before_slow, session=self.session, **kwargs)
        self._collect(results, trigger)

    def _collect_one(self, owner, result, trigger: Optional[Utterance]):
        created = time.monotonic()
        for item in _flatten(result):
            plugin = owner.split(":", 1)[0]
            if isinstance(item, Prompt):
                item.plugin = item.plugin or plugin
                item.created_at = created
                if item.trigger is None:
                    item.trigger = trigger
                self.arbiter.offer(item, self.session.now)
            elif isinstance(item, Observation):
                item.plugin = item.plugin or plugin
                if item.at is None:
                    item.at = self.session.now
                self.dispatcher.call("observed", session=self.session, observation=item)
            else:
                self.session.warn(
                    f"plugin {plugin} returned {type(item).__name__}; hooks return Prompt or Observation"
                )

    def _deliver_due(self):
        self._deliver(self.arbiter.due(self.session.now))

    def _deliver(self, prompts):
        for prompt in prompts:
            delivered = time.monotonic()
            prompt.latency = _latency(prompt, delivered)
            self.delivered.append(prompt)
            self.dispatcher.call("prompt_delivered", session=self.session, prompt=prompt)


def _latency(prompt: Prompt, delivered_at: float) -> Optional[PromptLatency]:
    trigger = prompt.trigger
    if trigger is None or not trigger.timing.speech_ended_at:
        return None
    t = trigger.timing
    return PromptLatency(
        total=delivered_at - t.speech_ended_at,
        vad=t.endpointed_at - t.speech_ended_at,
        transcription=t.transcribed_at - t.endpointed_at,
        plugins=max(0.0, prompt.created_at - t.transcribed_at),
        delivery=delivered_at - prompt.created_at,
    )


def _flatten(result):
    if isinstance(result, (list, tuple)):
        for item in result:
            yield from _flatten(item)
    elif hasattr(result, "__next__"):
        for item in result:
            yield from _flatten(item)
    elif result is not None:
        yield result


def _endpoint_settings(profile) -> EndpointSettings:
    allowed = set(EndpointSettings.__dataclass_fields__)
    unknown = set(profile.endpointing) - allowed
    if unknown:
        raise PipelineError(
            f"{profile.path}: endpointing.{sorted(unknown)[0]} is not a setting; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return EndpointSettings(**{key: float(value) for key, value in profile.endpointing.items()})


def _one_line(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return text or type(error).__name__
