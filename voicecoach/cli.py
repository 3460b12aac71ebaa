"""The ``voicecoach`` command line: thin commands over the library API.

The CLI is built by :func:`build_cli`, which loads plugins first, so that plugins
can add commands and tests can build a fresh CLI.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import sys

import click

from . import __version__
from .audio import AudioError
from .coach import NoSpeechError, coach_live, coach_recording, coach_transcript, installed_plugin_names
from .consent import ConsentError, require_consent
from .devices import list_devices
from .analyze import analyze_command
from .bench import bench_command
from .doctor import doctor_command
from .evaluation import eval_command
from .history import export_session, forget, parse_date, search, sessions_to_forget
from .jsonl import JsonlWriter
from .keys import HELP as KEYS_HELP, CallControls, terminal_keys
from .pulse import PulseError
from .log import LogError, explain, open_log
from .pipeline import PipelineError
from .plugins import PluginError, get_plugins, is_default_plugin, load_plugins
from .profiles import ProfileError, available_profiles, load_profile
from .report import REPORT_FORMATS, list_sessions, parse_since, produce_report
from .script import ScriptError
from .sync import sync_command
from .transcription import FAST_DECODING, ModelError

# Errors a user can fix: shown as one line, never a traceback.
USER_ERRORS = (
    AudioError,
    ConsentError,
    LogError,
    ModelError,
    NoSpeechError,
    PipelineError,
    PluginError,
    ProfileError,
    PulseError,
    ScriptError,
    ValueError,
)


def user_errors(function):
    """Turn the errors a user can fix into a one-line message and exit status 1."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except USER_ERRORS as error:
            raise click.ClickException(str(error).splitlines()[0] if str(error) else type(error).__name__)
        except sqlite3.DatabaseError as error:  # a damaged page met while reading the log
            raise click.ClickException(explain(error, kwargs.get("db_path")))

    return wrapper


def warn(message: str) -> None:
    text = f"voicecoach: warning: {message}"
    try:
        click.echo(text if os.environ.get("NO_COLOR") else click.style(text, fg="yellow"), err=True)
    except OSError:
        pass  # the terminal was closed (SIGHUP): the call still ends and is logged


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Call log database (default: the user data folder).",
)


def build_cli() -> click.Group:
    try:
        pm = load_plugins()
    except PluginError as error:
        raise click.ClickException(str(error))

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="voicecoach")
    def cli():
        """VoiceCoach: live coaching for sales calls, on your own laptop."""

    @cli.command(name="run")
    @click.option("--profile", "profile_name", default="zoom", show_default=True, help="Profile name or YAML file.")
    @click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Recorded call: stereo = seller left, prospect right; mono = one mixed channel.")
    @click.option("--seller", "seller_path", type=click.Path(dir_okay=False), help="Recording of the seller's side.")
    @click.option("--prospect", "prospect_path", type=click.Path(dir_okay=False), help="Recording of the prospect's side.")
    @click.option("--transcript", "transcript_path", type=click.Path(dir_okay=False), help="Text-only mode: a YAML transcript, no audio or model.")
    @click.option("--realtime", is_flag=True, help="Replay the recording at the pace it was recorded.")
    @click.option("--seller-device", help="Live: the seller's microphone (name, index or PulseAudio source).")
    @click.option("--prospect-device", help="Live: the call's audio output (e.g. a PulseAudio .monitor source).")
    @click.option("--duration", type=float, help="Live: stop after this many seconds.")
    @click.option("--i-have-consent", "consent", is_flag=True, help="Confirm the other party agreed to be recorded.")
    @click.option("--jsonl", "jsonl_path", help="Also write every event as JSON lines to this file, or - for stdout.")
    @click.option("--record", "record_path", type=click.Path(dir_okay=False), help="Live: also save the call's audio to this WAV file (seller left, prospect right). Off by default.")
    @click.option("--model", help="faster-whisper model folder or installed name (default: embedded tiny.en).")
    @click.option("--fast", is_flag=True, help="Decode about twice as fast and a little less accurately (greedy, no context): for long recordings or a slow laptop.")
    @db_option
    @user_errors
    def run_command(profile_name, input_path, seller_path, prospect_path, transcript_path, realtime,
                    seller_device, prospect_device, duration, consent, jsonl_path, record_path, model, fast, db_path):
        """Coach a call: live from your devices, a recording, or a transcript.

        With no --input, --seller/--prospect or --transcript, VoiceCoach captures live:
        your microphone as the seller and the call's audio output as the prospect.
        Stop with q or Ctrl-C; the log is kept and the summary printed. Audio is
        written to disk only with --record.
        """
        recorded = input_path or seller_path or prospect_path
        if record_path and (recorded or transcript_path):
            raise click.UsageError("--record saves a live call's audio; this call is already on disk")
        profile = load_profile(profile_name, known_plugins=installed_plugin_names())
        if fast:
            profile.decoding.update(FAST_DECODING)
        extra = []
        if jsonl_path:
            extra.append(JsonlWriter(jsonl_path))
            if jsonl_path == "-":  # stdout carries the events alone
                profile.plugins.pop("terminal", None)
        echo = functools.partial(click.echo, err=jsonl_path == "-")
        if transcript_path:
            summary = coach_transcript(profile, transcript_path, db_path=db_path, warn=warn, plugins=extra)
        elif recorded:
            summary = _coach_file(profile, input_path, seller_path, prospect_path, realtime, model, db_path, extra)
        else:
            if profile.capture == "two-way":
                require_consent(consent, ask=lambda question: click.confirm(question, default=False))
            controls = CallControls()
            with terminal_keys(controls) as has_keys:
                click.echo(f"Capturing live; {KEYS_HELP if has_keys else 'Ctrl-C stops'}.", err=True)
                summary = coach_live(
                    profile,
                    seller_device=seller_device,
                    prospect_device=prospect_device,
                    duration=duration,
                    model=model,
                    db_path=db_path,
                    warn=warn,
                    record_path=record_path,
                    controls=controls,
                    plugins=extra,
                )
            if record_path:
                click.echo(f"Audio saved to {record_path}", err=True)
        with contextlib.suppress(OSError):  # the terminal was closed (SIGHUP); the call is logged
            _echo_summary(summary, echo)

    @cli.command(name="demo")
    @click.option("--fast", is_flag=True, help="Run as fast as the machine allows instead of in real time.")
    @click.option("--profile", "profile_name", default="demo", show_default=True, help="Profile name or YAML file (try your own plugin on the demo).")
    @click.option("--model", help="faster-whisper model folder or installed name.")
    @db_option
    @user_errors
    def demo_command(fast, profile_name, model, db_path):
        """Replay the bundled demo sales call and watch the coaching appear."""
        from .demo import demo_audio_path

        _echo_summary(_coach_file(profile_name, demo_audio_path(), None, None, not fast, model, db_path))

    @cli.command(name="devices")
    @click.option("--json", "as_json", is_flag=True, help="Output JSON.")
    @user_errors
    def devices_command(as_json):
        """List microphones and the call-audio (loopback/monitor) sources you can capture."""
        devices = list_devices()
        if as_json:
            click.echo(json.dumps(devices, indent=2))
            return
        click.echo("PortAudio input devices (use the index or part of the name):")
        for d in devices["portaudio"]:
            mark = "*" if d["default"] else " "
            click.echo(f" {mark}{d['index']:>3}  {d['name']:<32} {d['hostapi']:<10} {d['channels']} ch  {d['default_samplerate']:.0f} Hz")
        if devices["pulse"]:
            click.echo("PulseAudio / PipeWire sources (use the name):")
            for d in devices["pulse"]:
                mark = "*" if d["default"] else " "
                kind = "call audio (monitor)" if d["monitor"] else "microphone"
                click.echo(f" {mark}{d['name']:<48} {kind:<21} {d['description']}")
        for problem in devices["problems"]:
            click.echo(f"note: {problem}")
        suggested = devices["suggested"]
        click.echo(
            f"Suggested: --seller-device {suggested['seller'] or '(none found)'} "
            f"--prospect-device {suggested['prospect'] or '(none found)'}"
        )

    @cli.command(name="report")
    @click.option("--session", "session_id", help="Session id (or its first characters); default: the latest.")
    @click.option("--since", help="Summarise the calls since then: 7d, 24h, 2w, or a date such as 2026-11-01.")
    @click.option("--all", "all_calls", is_flag=True, help="Summarise every call in the log.")
    @click.option("--format", "output_format", type=click.Choice(REPORT_FORMATS), default="text", show_default=True)
    @click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False),
        help="Write to FILE ('-' for the terminal). HTML goes to voicecoach-report-<id>.html here by default.",
    )
    @click.option("--open", "open_browser", is_flag=True, help="Open the HTML report in your browser.")
    @click.option("--transcript", "with_transcript", is_flag=True, help="Include the transcript in the text report.")
    @click.option("--team", is_flag=True, help="The whole team's calls, per seller and week, from the team's PostgreSQL database.")
    @click.option("--from", "team_url", metavar="URL", help="With --team: the team database (default: the one `voicecoach sync` uses).")
    @db_option
    @user_errors
    def report_command(session_id, since, all_calls, output_format, output, open_browser, with_transcript, team,
                       team_url, db_path):
        """Show what happened on a call, or summarise many with --since 7d or --all, or the team's with --team."""
        if team_url and not team:
            raise click.UsageError("--from names the team database: add --team")
        if team:
            if session_id or all_calls or with_transcript or db_path:
                raise click.UsageError("--team reads the team database; --session, --all, --transcript and --db are for your own log")
            from .team import produce_team_report

            result = produce_team_report(team_url, since=since, output_format=output_format, output=output)
        else:
            db = open_log(db_path, create=False)
            result = produce_report(
                db,
                session_id=session_id,
                since=since,
                all_calls=all_calls,
                output_format=output_format,
                output=output,
                with_transcript=with_transcript,
            )
        if result.path is None:
            click.echo(result.text)
            return
        if output_format == "html":
            click.echo(f"Report written to {result.path}: open it in your browser, or send it.")
            if open_browser:
                click.launch(result.path)
        else:
            click.echo(f"Report written to {result.path}")

    @cli.command(name="sessions")
    @click.option("--limit", default=20, show_default=True, help="How many of the latest sessions.")
    @click.option("--since", help="Only calls since then: 7d, 24h, 2w, or a date such as 2026-11-01.")
    @click.option("--profile", "profile_name", help="Only calls coached with this profile.")
    @click.option("--status", type=click.Choice(["ended", "interrupted", "failed", "running"]), help="Only calls that ended this way.")
    @click.option("--json", "as_json", is_flag=True, help="Output JSON.")
    @db_option
    @user_errors
    def sessions_command(limit, since, profile_name, status, as_json, db_path):
        """List the logged sessions, latest first."""
        sessions = list_sessions(
            open_log(db_path, create=False), limit=limit, since=parse_since(since) if since else None,
            profile=profile_name, status=status,
        )
        if as_json:
            click.echo(json.dumps(sessions, indent=2))
            return
        if not sessions:
            click.echo("No sessions logged yet: run `voicecoach demo`.")
        for s in sessions:
            click.echo(
                f"{s['id'][:8]}  {s['started_at']}  {s['status']:<11} {s['profile']:<9} "
                f"{(s['duration'] or 0):6.1f} s  {s['utterances']:3d} utterances  {s['prompts']:3d} prompts"
            )

    @cli.command(name="search")
    @click.argument("text")
    @click.option("--limit", default=20, show_default=True, help="How many matches at most.")
    @click.option("--json", "as_json", is_flag=True, help="Output JSON.")
    @db_option
    @user_errors
    def search_command(text, limit, as_json, db_path):
        """Find words in the transcripts of past calls."""
        matches = search(open_log(db_path, create=False), text, limit=limit)
        if as_json:
            click.echo(json.dumps(matches, indent=2))
            return
        if not matches:
            click.echo(f"No call mentions {text!r}.")
        for m in matches:
            minutes, seconds = divmod(int(m["start"]), 60)
            click.echo(f"{m['session_id'][:8]}  {m['started_at'][:16]}  {minutes:02d}:{seconds:02d}  "
                       f"{m['speaker']:<9} {m['snippet']}")

    @cli.command(name="export")
    @click.argument("session_id")
    @click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
    @db_option
    @user_errors
    def export_command(session_id, output, db_path):
        """Export everything logged about one call as JSON."""
        exported = json.dumps(export_session(open_log(db_path, create=False), session_id), indent=2, default=str)
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(exported + "\n")
            click.echo(f"Exported to {output}", err=True)
        else:
            click.echo(exported)

    @cli.command(name="forget")
    @click.argument("session_id", required=False)
    @click.option("--all", "everything", is_flag=True, help="Forget every call.")
    @click.option("--before", help="Forget the calls that started before this date (YYYY-MM-DD).")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @db_option
    @user_errors
    def forget_command(session_id, everything, before, yes, db_path):
        """Delete calls for good: transcripts, prompts and figures, with no trace left in the file."""
        if sum(bool(x) for x in (session_id, everything, before)) != 1:
            raise click.UsageError("give one of: a session id, --all, or --before DATE")
        db = open_log(db_path, create=False)
        ids = sessions_to_forget(db, session_id, everything, parse_date(before) if before else None)
        if not ids:
            click.echo("Nothing to forget.")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError("add --yes to forget calls without a terminal to confirm at")
            click.confirm(f"Forget {len(ids)} call(s) for good?", abort=True)
        click.echo(f"Forgot {forget(db, ids)} call(s).")

    @cli.command(name="plugins")
    @click.option("--profile", "profile_name", default="zoom", show_default=True, help="Show which plugins this profile enables.")
    @click.option("--json", "as_json", is_flag=True, help="Output JSON.")
    @user_errors
    def plugins_command(profile_name, as_json):
        """List installed plugins, their hooks, and whether the profile enables them."""
        profile = load_profile(profile_name)
        plugins = get_plugins()
        for plugin in plugins:
            plugin["enabled"] = is_default_plugin(plugin["name"]) or profile.enables(plugin["name"])
        if as_json:
            click.echo(json.dumps(plugins, indent=2))
            return
        for plugin in plugins:
            mark = "on " if plugin["enabled"] else "off"
            click.echo(f"{mark} {plugin['name']:<28} {plugin['version'] or '':<8} {', '.join(plugin['hooks'])}")
        click.echo(f"(on/off: enabled by profile {profile.name})")

    @cli.command(name="profiles")
    @user_errors
    def profiles_command():
        """List the profiles you can pass to --profile."""
        for name, path in sorted(available_profiles().items()):
            try:
                description = load_profile(path).description
            except ProfileError as error:
                description = f"(broken: {error})"
            click.echo(f"{name:<12} {description}")

    cli.add_command(doctor_command)
    cli.add_command(eval_command)
    cli.add_command(bench_command)
    cli.add_command(sync_command)
    cli.add_command(analyze_command)
    pm.hook.register_commands(cli=cli)
    return cli


def _coach_file(profile_name, input_path, seller_path, prospect_path, realtime, model, db_path, plugins=()):
    """Coach a recording; at real-time pace the keys work as on a live call."""
    controls = CallControls()
    with terminal_keys(controls) if realtime else contextlib.nullcontext():
        return coach_recording(
            profile_name,
            input=input_path,
            seller=seller_path,
            prospect=prospect_path,
            realtime=realtime,
            model=model,
            db_path=db_path,
            warn=warn,
            controls=controls,
            plugins=plugins,
        )


def _echo_summary(summary, echo=click.echo) -> None:
    echo("")
    echo(f"Session {summary.session_id} {summary.status}: {summary.duration:.1f} s of audio, "
               f"{summary.utterances} utterances, {len(summary.prompts)} prompts.")
    latencies = [p.latency.total for p in summary.prompts if p.latency is not None]
    if latencies:
        from .report import percentile

        echo(
            f"Prompt latency after the words: p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s."
        )
    echo(f"Processed in {summary.processing_seconds:.1f} s ({summary.realtime_factor:.1f}x real time).")
    if summary.db_path:
        echo(f"Logged to {summary.db_path}. See it with: voicecoach report")


def main(argv=None):
    try:
        cli = build_cli()
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    cli.main(args=argv, prog_name="voicecoach")



