"""The terminal sink: the transcript by speaker and each prompt, readable at a glance.

Plain line-by-line output, coloured only when stdout is a terminal, so it reads
the same in a pipe or a CI log.
"""

from __future__ import annotations

import sys

import click

from voicecoach import CRITICAL, HIGH, LOW, MEDIUM, PROSPECT, SELLER, hookimpl

DEFAULTS = {
    "show_detail": True,  # suggested responses under each prompt
    "show_latency": True,  # how long after the words the prompt arrived
    "show_stages": True,
}
PRIORITY_COLOURS = {CRITICAL: "red", HIGH: "yellow", MEDIUM: "cyan", LOW: "white"}
SPEAKER_COLOURS = {SELLER: "green", PROSPECT: "magenta"}


@hookimpl
def session_started(session):
    return TerminalView(session.settings("terminal", DEFAULTS))


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes:02d}:{seconds:02d}"


class TerminalView:
    def __init__(self, settings):
        self.settings = settings
        self.colour = sys.stdout.isatty()

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

