"""The terminal sink: the transcript by speaker and each prompt, readable at a glance.

On a terminal, a live view redrawn in place (``live_view.py``): what is captured,
levels, stage, talk ratio, the last lines and the prompt to act on. Anywhere else
(a pipe, a CI log, ``TERM=dumb``) or with ``live_view: false``, plain line-by-line
output, coloured only on a terminal and never with ``NO_COLOR`` set.
"""

from __future__ import annotations

import os
import sys

import click

from voicecoach import CRITICAL, HIGH, LOW, MEDIUM, PROSPECT, SELLER, hookimpl

from .live_view import LiveView

DEFAULTS = {
    "show_detail": True,  # suggested responses under each prompt
    "show_latency": True,  # how long after the words the prompt arrived
    "show_stages": True,
    "live_view": True,  # redraw one screen in place when stdout is a terminal
    "transcript_lines": 8,  # lines the live view shows; the log keeps them all
    "talk_window_seconds": 300,  # the live view's recent talk share
}
PRIORITY_COLOURS = {CRITICAL: "red", HIGH: "yellow", MEDIUM: "cyan", LOW: "white"}
SPEAKER_COLOURS = {SELLER: "green", PROSPECT: "magenta"}


@hookimpl
def session_started(session):
    settings = session.settings("terminal", DEFAULTS)
    if settings["live_view"] and can_redraw(sys.stdout):
        return LiveView(settings)
    return TerminalView(settings)


def can_redraw(stream) -> bool:
    """A terminal that can move its cursor: not a pipe, a file or a dumb terminal."""
    return stream is not None and stream.isatty() and os.environ.get("TERM") != "dumb"


def colour_wanted(stream) -> bool:
    # https://no-color.org: any non-empty NO_COLOR turns colour off.
    return stream is not None and stream.isatty() and not os.environ.get("NO_COLOR")


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes:02d}:{seconds:02d}"


class TerminalView:
    def __init__(self, settings):
        self.settings = settings
        self.colour = colour_wanted(sys.stdout)

    def echo(self, text, **style):
        click.echo(click.style(text, **style) if self.colour and style else text)

    @hookimpl
    def session_started(self, session):
        channels = " + ".join(session.speakers)
        if session.live:
            self.echo(f"● LIVE  capturing {channels}: {session.source}", fg="red", bold=True)
        else:
            self.echo(f"▶ REPLAY  {session.source}", fg="blue", bold=True)
        self.echo(f"  profile {session.profile.name}, {session.transcriber or 'text only'}")

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return
        label = utterance.speaker.upper().ljust(8)
        prefix = f"[{clock(utterance.start)}] "
        if self.colour:
            label = click.style(label, fg=SPEAKER_COLOURS.get(utterance.speaker, "white"), bold=True)
        click.echo(f"{prefix}{label} {utterance.text}")

    @hookimpl
    def prompt_delivered(self, session, prompt):
        colour = PRIORITY_COLOURS.get(prompt.priority, "white")
        self.echo(f"        ▶ {prompt.priority.upper()}  {prompt.text}", fg=colour, bold=True)
        if self.settings["show_detail"]:
            for line in prompt.detail:
                self.echo(f"            · {line}", fg=colour)
        if prompt.trigger is not None:
            why = f'            because {prompt.trigger.speaker} said: "{prompt.trigger.text}"'
            if self.settings["show_latency"] and prompt.latency is not None:
                why += f"  ({prompt.latency.total:.2f} s after the words)"
            self.echo(why, dim=True)

    @hookimpl
    def prompt_feedback(self, session, prompt, useful):
        self.echo(f"          {'+ marked useful' if useful else '- marked not useful'}", dim=True)

    @hookimpl
    def observed(self, session, observation):
        if observation.kind == "stage" and self.settings["show_stages"]:
            stage = str(observation.value).replace("_", " ")
            self.echo(f"        ── stage: {stage} ({clock(observation.at or 0)})", fg="blue")

    @hookimpl
    def session_ended(self, session, summary):
        self.echo(f"■ session {summary.status} after {clock(summary.duration)}", bold=True)

