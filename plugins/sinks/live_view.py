"""The live terminal view: one screen, redrawn in place, that a seller reads at a glance.

What is captured (LIVE and each channel's level) or replayed, the elapsed time, the
stage, the talk ratio, the last lines of the transcript and the prompt to act on.

Hooks only update the view's state, under a lock, so the dispatch thread never waits
for the terminal; a refresher thread redraws at most ``REFRESH_PER_SECOND`` times a
second, when something changed (and steadily on a live call, for the level meters).
Only the last ``transcript_lines`` lines are held: the log keeps the whole call.
When the call ends the last frame shows the final state and stays on screen as the
record; the CLI's summary follows it.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

from rich.console import Console, Group
from rich.file_proxy import FileProxy
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from voicecoach import CRITICAL, HIGH, LOW, MEDIUM, MIXED, PROSPECT, SELLER, hookimpl

REFRESH_PER_SECOND = 8
# On a live call the level meters move on their own: redrawn this often at least.
METER_REFRESH_SECONDS = 0.25
METER_CELLS = 20
TALK_CELLS = 30
# Levels below this read as an empty meter: room noise on a quiet line.
METER_FLOOR_DB = -60.0
# Prompts delivered this recently stay in sight, one line each, under the newest.
EARLIER_PROMPT_SECONDS = 30.0

PRIORITY_STYLES = {CRITICAL: "bold red", HIGH: "bold dark_orange", MEDIUM: "bold cyan", LOW: "dim"}
BORDER_STYLES = {CRITICAL: "red", HIGH: "dark_orange", MEDIUM: "cyan", LOW: "dim"}
SPEAKER_STYLES = {SELLER: "bold green", PROSPECT: "bold magenta", MIXED: "bold white"}
STATE_STYLES = {"listening": "green", "silent": "yellow", "lost": "bold red"}
WHO_SAID = {SELLER: "you", PROSPECT: "the prospect", MIXED: "someone"}


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes:02d}:{seconds:02d}"


def keys_are_read() -> bool:
    """Whether q, + and - work: the CLI reads single keys only with the terminal in
    cbreak mode (voicecoach.keys), so a canonical-mode terminal means they do not."""
    stdin = sys.stdin
    try:
        if stdin is None or not stdin.isatty():
            return False
        import termios
    except ImportError:  # Windows: the CLI reads keys whenever stdin is a console
        return True
    except (OSError, ValueError):
        return False
    try:
        return not termios.tcgetattr(stdin.fileno())[3] & termios.ICANON
    except (termios.error, OSError, ValueError):
        return False


class TextProxy(FileProxy):
    """rich's stand-in for stdout/stderr while the view is up: whatever is written
    lands above the view instead of through it. It names its real encoding so that
    click.echo (every warning) writes to it rather than to the raw stream below."""

    @property
    def encoding(self):
        return getattr(self.rich_proxied_file, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self.rich_proxied_file, "errors", "strict")


def one_line(*parts) -> Text:
    """Text cut to the width with an ellipsis: a row never wraps into two."""
    text = Text.assemble(*parts)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


@dataclass
class Line:
    speaker: str
    start: float
    text: str
    partial: bool = False


class LiveView:
    """The per-call plugin object behind the live view.

    ``console`` is where it draws (default: stdout). On a terminal it redraws in
    place while the call runs; on anything else it only prints the final state.
    """

    def __init__(self, settings: dict, console: Optional[Console] = None):
        self.settings = settings
        self.console = console or Console()  # rich honours NO_COLOR and TERM
        self.session = None
        self.lines: deque[Line] = deque(maxlen=max(1, int(settings["transcript_lines"])))
        # The newest unfinished utterance of each speaker, replaced by its final text.
        self.partials: dict[str, Line] = {}
        self.partial_ids: dict[str, int] = {}
        self.talk = {SELLER: 0.0, PROSPECT: 0.0, MIXED: 0.0}
        self.window = float(settings["talk_window_seconds"])
        self.recent: deque[tuple[str, float, float]] = deque(maxlen=2000)
        self.stage: Optional[str] = None
        self.prompt = None
        self.earlier_prompts: deque = deque(maxlen=2)
        self.rating: Optional[bool] = None  # the seller's rating of the prompt on screen
        self.summary = None
        self.keys = False
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._live: Optional[Live] = None
        self._refresher: Optional[threading.Thread] = None
        self._streams: dict[str, object] = {}

    # -- hooks: update the state, never draw ----------------------------------------

    @hookimpl
    def session_started(self, session):
        self.session = session
        self.keys = keys_are_read()
        if not self.console.is_terminal:
            return
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        self._redirect("stdout")
        if sys.stderr is not None and sys.stderr.isatty():  # else stderr stays where it goes
            self._redirect("stderr")
        self._changed.set()
        self._refresher = threading.Thread(target=self._refresh_loop, name="voicecoach-live-view", daemon=True)
        self._refresher.start()
        atexit.register(self._close)

    @hookimpl
    def speech_activity(self, session, activity):
        if activity.end is None:
            return
        with self._lock:
            self.talk[activity.speaker] = self.talk.get(activity.speaker, 0.0) + activity.duration
            self.recent.append((activity.speaker, activity.start, activity.end))
            while self.recent and self.recent[0][2] < activity.end - self.window:
                self.recent.popleft()
        self._changed.set()

    @hookimpl
    def partial_transcript(self, session, utterance):
        with self._lock:
            self.partials[utterance.speaker] = Line(utterance.speaker, utterance.start, utterance.text, partial=True)
            self.partial_ids[utterance.speaker] = utterance.id
        self._changed.set()

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return
        with self._lock:
            self.lines.append(Line(utterance.speaker, utterance.start, utterance.text))
            if self.partial_ids.get(utterance.speaker) == utterance.id or (
                utterance.speaker in self.partials and self.partials[utterance.speaker].start <= utterance.start
            ):
                self.partials.pop(utterance.speaker, None)
                self.partial_ids.pop(utterance.speaker, None)
        self._changed.set()

    @hookimpl
    def clock_tick(self, session, now):
        self._changed.set()

    @hookimpl
    def observed(self, session, observation):
        if observation.kind == "stage":
            with self._lock:
                self.stage = str(observation.value).replace("_", " ")
            self._changed.set()

    @hookimpl
    def prompt_delivered(self, session, prompt):
        with self._lock:
            if self.prompt is not None:
                self.earlier_prompts.append(self.prompt)
            self.prompt = prompt
            self.rating = None
        self._changed.set()

    @hookimpl
    def prompt_feedback(self, session, prompt, useful):
        with self._lock:
            if prompt is self.prompt:
                self.rating = bool(useful)
        self._changed.set()

    @hookimpl
    def session_ended(self, session, summary):
        with self._lock:
            self.summary = summary
        if self._live is not None:
            self._close()  # Live's last frame, drawn in full, stays: the record of the call
            atexit.unregister(self._close)
        else:
            self.console.print(self.render())

    def _close(self) -> None:
        """Stop redrawing and give the terminal back (also at exit, should the
        session end without reaching this view)."""
        self._stopping.set()
        if self._refresher is not None:
            self._refresher.join(timeout=2)
            self._refresher = None
        live, self._live = self._live, None
        try:
            if live is not None:
                live.stop()
        finally:
            self._restore_streams()

    def _redirect(self, name: str) -> None:
        stream = getattr(sys, name)
        if stream is not None:
            self._streams[name] = stream
            setattr(sys, name, TextProxy(self.console, stream))

    def _restore_streams(self) -> None:
        for name, stream in self._streams.items():
            proxy = getattr(sys, name)
            if isinstance(proxy, TextProxy):
                proxy.flush()
                setattr(sys, name, stream)
        self._streams = {}

    def _refresh_loop(self):
        last = 0.0
        while not self._stopping.wait(1 / REFRESH_PER_SECOND):
            live = self._live
            meters_due = self.session.live and time.monotonic() - last >= METER_REFRESH_SECONDS
            if live is None or not (self._changed.is_set() or meters_due):
                continue
            self._changed.clear()
            last = time.monotonic()
            try:
                live.refresh()
            except Exception as error:  # a drawing bug must not take the call with it
                self.session.warn(f"the live terminal view stopped redrawing ({type(error).__name__}: {error})")
                return

    # -- drawing ------------------------------------------------------------------

    def render(self):
        """The whole view as one rich renderable (any thread)."""
        with self._lock:
            parts = [
                self._header(),
                *self._meters(),
                self._status(),
                self._transcript(),
                self._prompt(),
                self._earlier_prompts(),
                self._footer(),
            ]
        return Group(*[part for part in parts if part is not None])

    def _now(self) -> float:
        if self.summary is not None:
            return self.summary.duration
        return self.session.now if self.session is not None else 0.0

    def _header(self):
        session = self.session
        health = session.channel_health() if session is not None else []
        if health:
            channels = ", ".join(f"{channel['speaker']}={channel['device']}" for channel in health)
        else:
            channels = session.source if session is not None else ""
        ended = self.summary is not None
        if session is not None and session.live:
            mark = Text("■ ENDED" if ended else "● LIVE", style="bold red")
            what = f"  {'captured' if ended else 'capturing'} {channels}"
        else:
            mark = Text("■ ENDED" if ended else "▶ REPLAY", style="bold blue")
            what = f"  {'replayed' if ended else 'replaying'} {channels}"
        left = one_line(mark, what)
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(left, Text(clock(self._now()), style="bold"))
        return grid

    def _meters(self):
        if self.session is None or self.summary is not None:
            return []
        rows = Table.grid(padding=(0, 1))
        health = self.session.channel_health()
        for channel in health:
            level = channel.get("level_db")
            filled = 0 if level is None else round(METER_CELLS * min(1.0, max(0.0, 1 - level / METER_FLOOR_DB)))
            bar = Text("▮" * filled, style="green" if filled < METER_CELLS * 0.85 else "red")
            bar.append("▯" * (METER_CELLS - filled), style="dim")
            state = channel.get("state", "")
            rows.add_row(
                Text(channel["speaker"], style=SPEAKER_STYLES.get(channel["speaker"], "bold")),
                bar,
                Text("   — dB" if level is None else f"{level:4.0f} dB", style="dim"),
                Text(state, style=STATE_STYLES.get(state, "")),
            )
        return [rows] if health else []

    def _status(self):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        if self.settings["show_stages"]:
            grid.add_row("stage", Text(self.stage or "—", style="bold"))
        grid.add_row("talk", self._talk_ratio())
        return grid

    def _talk_ratio(self) -> Text:
        seller, prospect = self.talk.get(SELLER, 0.0), self.talk.get(PROSPECT, 0.0)
        if self.session is not None and SELLER not in self.session.speakers:
            return Text("one mixed channel: no split by speaker", style="dim")
        if seller + prospect <= 0:
            return Text("no speech yet", style="dim")
        share = seller / (seller + prospect)
        cells = round(TALK_CELLS * share)
        text = Text.assemble(
            ("seller ", "green"),
            (f"{share:4.0%} ", "bold green"),
            ("█" * cells, "green"),
            ("░" * (TALK_CELLS - cells), "magenta"),
            (f" {1 - share:4.0%}", "bold magenta"),
            (" prospect", "magenta"),
        )
        window = self._window_share()
        if window is not None:
            text.append(f"   last {self._window_words()}: {window:.0%} / {1 - window:.0%}", style="dim")
        return text

    def _window_share(self) -> Optional[float]:
        now = self._now()
        if now <= self.window:  # the window is the whole call so far: nothing to add
            return None
        since = now - self.window
        spoken = {SELLER: 0.0, PROSPECT: 0.0}
        for speaker, start, end in self.recent:
            if speaker in spoken and end > since:
                spoken[speaker] += end - max(start, since)
        total = spoken[SELLER] + spoken[PROSPECT]
        return spoken[SELLER] / total if total > 0 else None

    def _window_words(self) -> str:
        if self.window % 60 == 0:
            return f"{int(self.window // 60)} min"
        return f"{self.window:g} s"

    def _transcript(self):
        lines = list(self.lines) + sorted(self.partials.values(), key=lambda line: line.start)
        lines = lines[-self.lines.maxlen:]
        if self.summary is None:  # a steady height while the call runs
            lines = [None] * (self.lines.maxlen - len(lines)) + lines
        rows = []
        for line in lines:
            if line is None:
                rows.append(Text(""))
                continue
            words = line.text + (" …" if line.partial else "")
            rows.append(one_line(
                (f"{clock(line.start)} ", "dim"),
                (line.speaker.upper().ljust(8) + " ", SPEAKER_STYLES.get(line.speaker, "bold")),
                (words, "dim italic" if line.partial else ""),
            ))
        return Panel(Group(*rows), title="transcript", title_align="left", border_style="dim")

    def _prompt(self):
        prompt = self.prompt
        if prompt is None:
            return Panel(Text("no prompt yet: coaching appears here", style="dim"), border_style="dim")
        style = PRIORITY_STYLES.get(prompt.priority, "bold")
        body = [Text(prompt.text, style=style)]
        if self.settings["show_detail"]:
            body += [Text(f"  · {line}", style=BORDER_STYLES.get(prompt.priority, "")) for line in prompt.detail]
        trigger = prompt.trigger
        if trigger is not None:
            why = Text(f'because {WHO_SAID.get(trigger.speaker, trigger.speaker)} said: "{trigger.text}"', style="dim")
            if self.settings["show_latency"] and prompt.latency is not None:
                why.append(f"  ({prompt.latency.total:.2f} s after the words)")
            body.append(why)
        if self.rating is not None:
            body.append(
                Text("+ marked useful", style="green") if self.rating else Text("- marked not useful", style="yellow")
            )
        title = f"{prompt.priority.upper()} · {prompt.plugin or prompt.kind}"
        return Panel(
            Group(*body),
            title=title,
            title_align="left",
            subtitle=clock(prompt.at) if prompt.at is not None else None,
            subtitle_align="right",
            border_style=BORDER_STYLES.get(prompt.priority, ""),
        )

    def _earlier_prompts(self):
        now = self._now()
        earlier = [
            prompt for prompt in self.earlier_prompts
            if prompt.at is not None and now - prompt.at <= EARLIER_PROMPT_SECONDS
        ]
        if not earlier:
            return None
        rows = []
        for prompt in reversed(earlier):
            style = BORDER_STYLES.get(prompt.priority, "")
            rows.append(one_line((f"earlier {clock(prompt.at)} ", "dim"), (f"{prompt.priority.upper()}  {prompt.text}", style)))
        return Group(*rows)

    def _footer(self):
        if self.summary is not None:
            return Text(f"■ session {self.summary.status} after {clock(self.summary.duration)}", style="bold")
        if self.keys:
            return Text("q stop · + useful · - not useful", style="dim")
        return Text("Ctrl-C stop", style="dim")
