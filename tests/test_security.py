"""Security and privacy: files are data, plugins come only from installed packages,
the log is private, nothing goes over the network, and numbers and addresses said on
a call are redacted the way speech recognition writes them.
"""

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from click.testing import CliRunner

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

from fuzz import Hang, check_audio, check_cli, check_playbook, check_profile, check_transcript, time_limit  # noqa: E402
from voicecoach.cli import build_cli  # noqa: E402
from voicecoach.redaction import redact  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOICECOACH = os.path.join(os.path.dirname(sys.executable), "voicecoach")

# -- profiles, playbooks and transcripts are data ------------------------------------------------

CODE_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
]


@pytest.mark.parametrize("tag", CODE_TAGS)
def test_code_in_a_profile_transcript_or_playbook_is_refused_and_never_runs(tmp_path, tag):
    marker = tmp_path / "ran"
    value = tag.format(marker=marker)
    files = {
        check_profile: ("shared.yaml", f"description: {value}\nplugins: {{objections: {{}}}}\n"),
        check_transcript: ("call.yaml", f"- {{speaker: prospect, text: {value}}}\n"),
        check_playbook: ("objections.yaml", f"objections:\n  price: {{label: {value}}}\n"),
    }
    for check, (name, text) in files.items():
        path = tmp_path / name
        path.write_text(text)
        message = check(str(path))
        assert message is not None and name in message and ("line 1" in message or "line 2" in message), message
    profile, transcript = str(tmp_path / "shared.yaml"), str(tmp_path / "call.yaml")
    code, message = check_cli(["run", "--profile", profile, "--transcript", transcript], [profile, transcript])
    assert code == 1 and "shared.yaml" in message and "not allowed" in message, message
    assert not marker.exists()


def test_a_tag_is_named_in_the_message(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text("plugins:\n  objections: !!python/object/apply:os.system ['true']\n")
    assert "tag !!python/object/apply:os.system at line 2, column 15 is not allowed" in check_profile(str(path))


# -- a profile's playbook: where it may come from -------------------------------------------------
#
# The rule: a playbook path in a profile is the user's to choose. `~` and absolute
# paths are taken as written; a relative path is resolved against the profile's own
# folder, never the current directory, so a shared profile and its playbook travel
# together and the same profile means the same thing wherever it is run from. What is
# read must be a YAML playbook: anything else is refused in one line, and nothing of
# its content is shown.

PLAYBOOK = """\
objections:
  {category}:
    label: {label}
    triggers: ["(shipping|delivery) takes (too|so) long"]
    responses: ["When do you need it by? Then offer express."]
"""
TRANSCRIPT = "- {speaker: prospect, text: Honestly the delivery takes too long for us.}\n"


def run_with_playbook(tmp_path, playbook_setting):
    folder = tmp_path / "team" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "shared.yaml"
    setting = json.dumps(str(playbook_setting))
    profile.write_text(f"plugins:\n  objections: {{playbook: {setting}}}\n  sqlite_log: {{}}\n")
    transcript = tmp_path / "call.yaml"
    transcript.write_text(TRANSCRIPT)
    jsonl = tmp_path / "events.jsonl"
    result = CliRunner().invoke(build_cli(), ["run", "--profile", str(profile), "--transcript", str(transcript),
                                              "--db", str(tmp_path / "log.db"), "--jsonl", str(jsonl)])
    assert "Traceback" not in result.output and result.exit_code == 0, result.output
    kinds = [event["kind"] for event in map(json.loads, jsonl.read_text().splitlines())
             if event["event"] == "prompt_delivered"] if jsonl.exists() else []
    warnings = [line for line in result.output.splitlines() if "warning" in line and "objections" in line]
    return kinds, warnings, result.output


def test_a_relative_playbook_path_is_resolved_against_the_profile_not_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "team" / "profiles").mkdir(parents=True)
    (tmp_path / "team" / "profiles" / "extra.yaml").write_text(PLAYBOOK.format(category="shipping", label="Shipping"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "extra.yaml").write_text(PLAYBOOK.format(category="decoy", label="Decoy"))
    monkeypatch.chdir(elsewhere)
    kinds, warnings, output = run_with_playbook(tmp_path, "extra.yaml")
    assert "objection.shipping" in kinds and "objection.decoy" not in kinds, output
    assert not warnings


def test_an_absolute_or_home_playbook_path_is_taken_as_written(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (home / "mine.yaml").write_text(PLAYBOOK.format(category="shipping", label="Shipping"))
    assert "objection.shipping" in run_with_playbook(tmp_path, "~/mine.yaml")[0]
    assert "objection.shipping" in run_with_playbook(tmp_path, home / "mine.yaml")[0]


@pytest.mark.parametrize("target", ["../../../../../../../../../../etc/passwd", "/etc/passwd", "../.."])
def test_a_playbook_path_reaching_a_file_that_is_not_a_playbook_is_refused_in_one_line(tmp_path, target):
    kinds, warnings, output = run_with_playbook(tmp_path, target)
    assert len(warnings) == 1, output
    assert "objections" in warnings[0] and os.path.basename(target.rstrip("/")) in warnings[0], warnings[0]
    assert "root:" not in output and "/bin/" not in output  # nothing of the file is shown
    assert not any(kind.startswith("objection.") for kind in kinds)


def test_a_playbook_must_be_a_yaml_file(tmp_path):
    notes = tmp_path / "team" / "profiles" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text(PLAYBOOK.format(category="shipping", label="Shipping"))
    kinds, warnings, output = run_with_playbook(tmp_path, "notes.txt")
    assert len(warnings) == 1 and "notes.txt" in warnings[0] and "yaml" in warnings[0].lower(), output


def test_a_playbook_path_naming_a_pipe_does_not_hang(tmp_path):
    pipe = tmp_path / "team" / "profiles" / "objections.yaml"
    pipe.parent.mkdir(parents=True)
    os.mkfifo(pipe)
    try:
        with time_limit(2):
            kinds, warnings, output = run_with_playbook(tmp_path, "objections.yaml")
    except Hang as hang:
        raise AssertionError("the run waited on the pipe") from hang
    assert len(warnings) == 1 and "objections.yaml" in warnings[0], output


# -- plugins only from installed packages ---------------------------------------------------------


def run_voicecoach(args, tmp_path, extra_env=None, timeout=120):
    env = {**os.environ, "VOICECOACH_HOME": str(tmp_path / "home"), **(extra_env or {})}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run([VOICECOACH, *args], capture_output=True, text=True, env=env, timeout=timeout)


def evil_module(tmp_path):
    """A module on the import path that would leave a mark if anything imported it."""
    folder = tmp_path / "site"
    folder.mkdir(exist_ok=True)
    marker = tmp_path / "imported"
    (folder / "evil_plugin.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    return folder, marker


def test_voicecoach_load_plugins_names_entry_points_and_never_imports_a_module(tmp_path):
    folder, marker = evil_module(tmp_path)
    env = {"PYTHONPATH": str(folder),
           "VOICECOACH_LOAD_PLUGINS": "evil_plugin,os,voicecoach_objections.coach,objections"}
    result = run_voicecoach(["plugins", "--json", "--profile", "demo"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    names = {plugin["name"] for plugin in json.loads(result.stdout)}
    assert "objections" in names
    assert not names & {"evil_plugin", "os", "voicecoach_objections.coach"}, names
    assert not marker.exists()


@pytest.mark.parametrize("profile_text", [
    "plugins: {evil_plugin: {}}\n",
    "transcriber: evil_plugin\nplugins: {objections: {}}\n",
    "source: evil_plugin\nplugins: {objections: {}}\n",
])
def test_a_profile_cannot_name_a_module_into_the_process(tmp_path, profile_text):
    folder, marker = evil_module(tmp_path)
    profile = tmp_path / "shared.yaml"
    profile.write_text(profile_text)
    wav = tmp_path / "call.wav"
    from voicecoach.synth import write_audio

    write_audio(str(wav), np.zeros((1600, 2)), 16000)
    result = run_voicecoach(["run", "--profile", str(profile), "--input", str(wav), "--db", str(tmp_path / "l.db")],
                            tmp_path, {"PYTHONPATH": str(folder)})
    assert "Traceback" not in result.stderr, result.stderr
    assert not marker.exists()
    if "source:" not in profile_text:  # the file source is what replays a file, whatever the profile says
        assert result.returncode == 1 and "evil_plugin" in result.stderr and "shared.yaml" in result.stderr


# -- the log is private ------------------------------------------------------------------------------


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_folder_and_database_are_readable_by_the_user_only(tmp_path, voicecoach_home):
    transcript = tmp_path / "call.yaml"
    transcript.write_text("- {speaker: prospect, text: my card is 4111 1111 1111 1111}\n")
    previous = os.umask(0)  # the most permissive umask a user could have
    try:
        code, _ = check_cli(["run", "--profile", "demo", "--transcript", str(transcript)], [str(transcript)])
        explicit = tmp_path / "elsewhere" / "calls.db"
        code_explicit, _ = check_cli(["run", "--profile", "demo", "--transcript", str(transcript), "--db",
                                      str(explicit)], [str(transcript)])
    finally:
        os.umask(previous)
    assert code == 0 and code_explicit == 0
    data = voicecoach_home / "data"
    assert mode(data) == 0o700
    databases = [path for path in data.iterdir() if path.name.startswith("logs.db")] + [
        path for path in explicit.parent.iterdir() if path.name.startswith("calls.db")]
    assert len(databases) >= 2
    for path in databases:
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


# -- nothing goes over the network --------------------------------------------------------------------

# Loaded by every Python process of the run: records and refuses any attempt to reach
# a network address or look up a name. Unix sockets (D-Bus, for notifications) are
# local and allowed.
GUARD = textwrap.dedent("""\
    import json, os, socket

    _LOG = os.environ["VOICECOACH_NET_LOG"]
    open(_LOG + ".loaded", "w").close()
    _NETWORK = (socket.AF_INET, socket.AF_INET6)

    def _record(call, detail):
        with open(_LOG, "a") as handle:
            handle.write(json.dumps([call, repr(detail)]) + "\\n")

    def _guard(name):
        original = getattr(socket.socket, name)
        def guarded(self, *args, **kwargs):
            if self.family in _NETWORK:
                _record(name, args[-1] if args else None)
                raise OSError(101, "network blocked by the test")
            return original(self, *args, **kwargs)
        setattr(socket.socket, name, guarded)

    for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
        _guard(_name)

    def _refuse(name):
        def refused(*args, **kwargs):
            _record(name, args[:1])
            raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test")
        setattr(socket, name, refused)

    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        _refuse(_name)
""")


def works(command):
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def guarded_env(tmp_path):
    folder = tmp_path / "guard"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "network.log"
    return {"PYTHONPATH": str(folder), "VOICECOACH_NET_LOG": str(log)}, log


def test_the_network_guard_catches_a_connection(tmp_path):
    env, log = guarded_env(tmp_path)
    code = "import urllib.request\ntry: urllib.request.urlopen('http://example.com', timeout=2)\nexcept Exception: pass"
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, timeout=60)
    assert "getaddrinfo" in log.read_text()


@pytest.mark.slow
def test_a_full_demo_runs_with_the_network_blocked_and_never_tries_to_reach_it(tmp_path):
    """Three layers: a network namespace with no network at all (`unshare -n`, where
    permitted), strace recording every connect and send of every thread (native
    libraries included), and a Python guard recording socket and name-lookup calls.
    The zoom profile turns every bundled plugin on, the notifier included, whose D-Bus
    connection is a local Unix socket."""
    env, log = guarded_env(tmp_path)
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path / 'no-session-bus'}"
    env.pop("ORT_DISABLE_TELEMETRY", None)
    command = [VOICECOACH, "demo", "--fast", "--profile", "zoom", "--db", str(tmp_path / "log.db")]
    layers = ["python guard"]
    if shutil.which("unshare") and works(["unshare", "-n", "true"]):
        command = ["unshare", "-n", *command]
        layers.append("network namespace")
    trace = tmp_path / "trace.log"
    if shutil.which("strace") and works(["strace", "-f", "-qq", "-o", os.devnull, "true"]):
        command = ["strace", "-f", "-qq", "-e", "signal=none", "-e", "trace=connect,sendto,sendmsg,sendmmsg",
                   "-o", str(trace), *command]
        layers.append("strace")
    full_env = {**os.environ, "VOICECOACH_HOME": str(tmp_path / "home"), **env}
    full_env.pop("ORT_DISABLE_TELEMETRY", None)  # VoiceCoach must turn it off itself
    result = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"Session \S+ ended: .* (\d+) prompts", result.stdout), result.stdout[-2000:]
    assert os.path.exists(str(log) + ".loaded"), "the Python guard was not loaded"
    attempts = log.read_text() if log.exists() else ""
    assert attempts == "", f"tried to reach the network ({', '.join(layers)}):\n{attempts}"
    if trace.exists():
        network = [line for line in trace.read_text().splitlines() if re.search(r"AF_INET6?\b", line)]
        assert not network, "native code tried to reach the network:\n" + "\n".join(network[:10])


def test_a_playlist_posing_as_audio_fetches_nothing(tmp_path):
    # FFmpeg reads playlists (HLS) that name URLs; VoiceCoach opens local files only.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(1)
    port = server.getsockname()[1]
    connections = []

    def accept():
        try:
            connections.append(server.accept())
        except OSError:
            pass

    listener = threading.Thread(target=accept)
    listener.start()
    playlist = tmp_path / "call.wav"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:{port}/a.ts\n"
                        "#EXT-X-ENDLIST\n")
    try:
        message = check_audio(str(playlist))
    finally:
        listener.join()
        server.close()
    assert message is not None and "call.wav" in message
    assert connections == []


# -- redaction, as speech recognition writes what people say --------------------------------------

# What Whisper tiny.en wrote for espeak-ng reading these out, and the forms people
# and recognisers commonly produce.
SPOKEN_PII = [
    # cards
    ("My car runs under me 4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1...10 fine audio", "4-1-1-1"),
    ("My card number is four one one one, one one one one, one one one one, one one one one.", "one one one one"),
    ("Four, one, one, one. One, one, one, one. One, one, one, one. One, one, one, one.", "One, one"),
    ("Card number, 4111, 1111, 1111, 1111. Expiration, 0 4, 27.", "1111"),
    ("Yeah, it is 4111. 1111. 1111. 1111.", "1111"),
    ("It's 5555 5555 5555 4444, expires 12/27.", "4444"),
    ("Amex, 3782 822463 10005.", "822463"),
    ("My card is 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1.", "1 1 1 1"),
    # phones
    ("Call me on 5, 5, 8, 6, 7, 5, 3, or 9", "8, 6, 7"),
    ("You can call me at five five five, eight six seven, five three oh nine.", "eight six seven"),
    ("Call me on double five five, eight six seven, five three oh nine.", "eight six seven"),
    ("my mobile is oh seven seven double oh, nine hundred, one two three", "one two three"),
    ("It is eight hundred, five five five, one two one two.", "one two one two"),
    ("My number is +1 (555) 867-5309.", "5309"),
    ("Reach me at 212.555.0147.", "0147"),
    ("It is 0 7 7 0 0 9 0 0 1 2 3.", "0 0 1 2 3"),
    # accounts, social security and bank numbers
    ("My account number is 1-2-3-4-5-6-7-8.", "5-6-7-8"),
    ("My account number is one two three four five six seven eight.", "five six seven eight"),
    ("Sure, my social is one two three, four five, six seven eight nine.", "six seven eight nine"),
    ("My social security number is 123-45-6789.", "6789"),
    ("Routing number 021000021 and account 000123456789.", "123456789"),
    ("My IBAN is DE89 3704 0044 0532 0130 00.", "0532"),
    # email addresses
    ("Email me at john dot smith at gmail dot com.", "smith"),
    ("It is john underscore smith at outlook dot com", "smith"),
    ("reach her at pat dot lee at example dot co dot uk thanks", "example"),
    ("my email is sales at acme dot io", "acme"),
    ("My email is john.smith@gmail.com.", "john.smith"),
]


@pytest.mark.parametrize("said, private", SPOKEN_PII)
def test_spoken_card_phone_account_and_email_are_redacted(said, private):
    redacted = redact(said)
    assert private not in redacted, redacted
    assert re.search(r"\[(card number|phone number|account number|email)\]", redacted), redacted
    assert not re.search(r"\d(?:\D{0,3}\d){6}", redacted), redacted  # no run of 7 digits survives


@pytest.mark.parametrize("said", [
    "We have 250 employees and spend 40,000 dollars a year.",
    "call me tomorrow at 10:30 or on the 15th",
    "we are at one hundred customers and two hundred employees",
    "pick 1, 2 or 3 seats, we sold 5 or 6 last year",
    "I have one. Two. We meet at three.",
    "meet me at the office at nine",
])
def test_what_coaching_needs_survives_redaction(said):
    assert redact(said) == said


@pytest.mark.slow
def test_numbers_read_out_on_a_call_never_reach_the_log(tmp_path, transcriber):
    import voicecoach
    from voicecoach.coach import coach_recording
    from voicecoach.synth import ScriptLine, synthesize_call
    from voicecoach.testing import make_profile

    path = str(tmp_path / "pii.wav")
    synthesize_call([
        ScriptLine("seller", "Great. What card would you like to use for the deposit?"),
        ScriptLine("prospect", "My card number is four one one one, one one one one, "
                               "one one one one, one one one one."),
        ScriptLine("seller", "And the best number to reach you?"),
        ScriptLine("prospect", "Call me on five five five, eight six seven, five three oh nine."),
        ScriptLine("prospect", "My account number is one two three four five six seven eight."),
    ], out_path=path)
    db = str(tmp_path / "log.db")
    coach_recording(make_profile(["sqlite_log"]), input=path, transcriber=transcriber, db_path=db)
    logged = " ".join(row["text"] for row in voicecoach.open_log(db, create=False)["utterances"].rows)
    assert "[" in logged, logged
    assert not re.search(r"\d(?:\D{0,3}\d){6}", logged), logged
    assert not re.search(r"(?:\b(?:one|two|three|four|five|six|seven|eight|nine|oh)\b\W+){7}", logged, re.I), logged
