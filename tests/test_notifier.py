"""The desktop notifier, against a real private D-Bus session bus.

A test-side notification server owns ``org.freedesktop.Notifications`` on that bus,
as a desktop's notification daemon does, and records every call it receives.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from jeepney import DBusNameFlags, HeaderFields, MessageType, message_bus, new_error, new_method_return
from jeepney.io.blocking import open_dbus_connection

from voicecoach import CRITICAL, HIGH, MEDIUM, Prompt, Session, hookimpl
from voicecoach.plugins import load_plugins, pm
from voicecoach.testing import CallRecorder, make_profile, run_conversation

import voicecoach_sinks.notifier as notifier_module
from voicecoach_sinks.notifier import DesktopNotifications, body_for, title_for

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the freedesktop notification API is Linux's"
)

NAME = "org.freedesktop.Notifications"
PRICE_OBJECTION = ("prospect", "Honestly, that is way too expensive for us.")
# No <servicedir>: the bus can never start a notification daemon installed on this
# machine, so "nobody owns the name" stays true unless a test owns it.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
# The interface of the Desktop Notifications Specification, as daemons introspect it.
INTROSPECTION = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg name="app_name" type="s" direction="in"/>
      <arg name="replaces_id" type="u" direction="in"/>
      <arg name="app_icon" type="s" direction="in"/>
      <arg name="summary" type="s" direction="in"/>
      <arg name="body" type="s" direction="in"/>
      <arg name="actions" type="as" direction="in"/>
      <arg name="hints" type="a{sv}" direction="in"/>
      <arg name="expire_timeout" type="i" direction="in"/>
      <arg name="id" type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg name="id" type="u" direction="in"/>
    </method>
    <method name="GetCapabilities">
      <arg name="capabilities" type="as" direction="out"/>
    </method>
    <method name="GetServerInformation">
      <arg name="name" type="s" direction="out"/>
      <arg name="vendor" type="s" direction="out"/>
      <arg name="version" type="s" direction="out"/>
      <arg name="spec_version" type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg name="id" type="u"/>
      <arg name="reason" type="u"/>
    </signal>
    <signal name="ActionInvoked">
      <arg name="id" type="u"/>
      <arg name="action_key" type="s"/>
    </signal>
  </interface>
</node>
"""


class SessionBus:
    """A private dbus-daemon for this module's tests."""

    def start(self) -> "SessionBus":
        self.folder = tempfile.TemporaryDirectory(prefix="voicecoach-dbus-")
        config = os.path.join(self.folder.name, "session.conf")
        with open(config, "w") as file:
            file.write(BUS_CONFIG.format(folder=self.folder.name))
        try:
            self.daemon = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        except FileNotFoundError:
            raise RuntimeError("install the Debian package dbus (make test does)") from None
        self.address = self.daemon.stdout.readline().strip()
        if not self.address:
            raise RuntimeError(f"dbus-daemon did not start: {self.daemon.stderr.read().strip()}")
        return self

    def has_owner(self, name: str) -> bool:
        with open_dbus_connection(bus=self.address) as connection:
            return bool(connection.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2).body[0])

    def stop(self):
        self.daemon.terminate()
        self.daemon.wait(timeout=5)
        self.daemon.stdout.close()
        self.daemon.stderr.close()
        self.folder.cleanup()


class NotificationServer:
    """Owns org.freedesktop.Notifications and records each Notify call.

    ``notify_delay`` makes it answer Notify that many seconds late, like a daemon
    that hangs.
    """

    def __init__(self, address: str, notify_delay: float = 0.0):
        self.address = address
        self.notify_delay = notify_delay
        self.notifications = []  # each Notify call's arguments, with the instant it came
        self.closed = []  # ids passed to CloseNotification
        self.calls = []  # every method called, in order
        self._next_id = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-notification-server", daemon=True)

    def start(self) -> "NotificationServer":
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the test notification server did not get the name")
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.notifications) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.notifications

    def _serve(self):
        with open_dbus_connection(bus=self.address) as connection:
            reply = connection.send_and_get_reply(
                message_bus.RequestName(NAME, DBusNameFlags.do_not_queue), timeout=2
            )
            if reply.body[0] != 1:  # 1: the primary owner
                return
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = connection.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if message.header.message_type == MessageType.method_call:
                    connection.send(self._answer(message))
            # Released before the next test looks for an owner.
            connection.send_and_get_reply(message_bus.ReleaseName(NAME), timeout=2)

    def _answer(self, message):
        member = message.header.fields.get(HeaderFields.member)
        self.calls.append(member)
        if member == "Introspect":
            return new_method_return(message, "s", (INTROSPECTION,))
        if member == "GetServerInformation":
            return new_method_return(message, "ssss", ("voicecoach-test", "VoiceCoach tests", "1.0", "1.2"))
        if member == "GetCapabilities":
            return new_method_return(message, "as", (["body", "body-markup"],))
        if member == "Notify":
            app_name, replaces_id, icon, summary, body, actions, hints, expire_timeout = message.body
            if self.notify_delay:
                time.sleep(self.notify_delay)
            self._next_id += 1
            self.notifications.append(
                {
                    "app_name": app_name,
                    "replaces_id": replaces_id,
                    "summary": summary,
                    "body": body,
                    "hints": hints,
                    "expire_timeout": expire_timeout,
                    "id": self._next_id,
                    "at": time.monotonic(),
                }
            )
            return new_method_return(message, "u", (self._next_id,))
        if member == "CloseNotification":
            self.closed.append(message.body[0])
            return new_method_return(message)
        return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no method {member}",))


@pytest.fixture(scope="module")
def session_bus():
    bus = SessionBus().start()
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
def on_bus(session_bus, monkeypatch):
    """This test process's session bus is the private one."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    return session_bus


@pytest.fixture
def server(on_bus):
    server = NotificationServer(on_bus.address).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", autouse=True)
def notifier_plugin():
    """The plugin under its entry-point name, also before pyproject declares it."""
    load_plugins()
    registered = pm.get_plugin("notifier") is None
    if registered:
        pm.register(notifier_module, name="notifier")
    try:
        yield
    finally:
        if registered:
            pm.unregister(name="notifier")


def notifier_warnings(warnings):
    return [warning for warning in warnings if "notification" in warning]


def price_prompt_of(summary):
    return next(prompt for prompt in summary.prompts if prompt.kind == "objection.price")


def test_a_price_objection_reaches_the_notification_server(server):
    warnings = []
    summary = run_conversation(
        [("seller", "So, what do you think of the plan?"), PRICE_OBJECTION],
        plugins=["objections", "notifier"],
        warnings=warnings,
    )
    prompt = price_prompt_of(summary)
    (notification,) = server.wait_for(1)
    assert notification["app_name"] == "VoiceCoach"
    assert notification["summary"] == "VoiceCoach: Price objection"
    assert notification["body"].startswith(prompt.text)
    assert notification["hints"]["urgency"] == ("y", 1)
    assert notification["expire_timeout"] == 8000
    assert notifier_warnings(warnings) == []


def test_medium_prompts_do_not_notify_unless_asked(server):
    class MediumCoach:
        @hookimpl
        def transcript(self, session, utterance):
            return Prompt(kind="pace", text="Slow down a little", priority=MEDIUM, key=str(utterance.id))

    summary = run_conversation([("seller", "Let me walk you through it.")], plugins=["notifier"],
                               extra_plugins=[MediumCoach()])
    assert [prompt.text for prompt in summary.prompts] == ["Slow down a little"]
    time.sleep(0.2)
    assert server.notifications == []

    run_conversation([("seller", "Let me walk you through it.")], plugins={"notifier": {"min_priority": "medium"}},
                     extra_plugins=[MediumCoach()])
    assert [n["summary"] for n in server.wait_for(1)] == ["VoiceCoach: Pace"]


def test_at_most_one_notification_per_interval(server):
    lines = [PRICE_OBJECTION, ("seller", "I hear you."), ("prospect", "I need to talk to my husband first."),
             ("seller", "Of course."), ("prospect", "Let me think about it.")]
    summary = run_conversation(lines, plugins=["objections", "notifier"])
    titles = {title_for(prompt) for prompt in summary.prompts}
    assert len(titles) == 3
    # The call took milliseconds, within one 5 s interval: one notification, and the
    # call was over before the others' turn came.
    time.sleep(0.3)
    (notification,) = server.notifications
    assert notification["summary"] in titles


def start_sink(settings, warnings=None):
    session = Session(make_profile({"notifier": settings}), speakers=("seller", "prospect"),
                      warn=None if warnings is None else warnings.append)
    return session, DesktopNotifications(session, session.settings("notifier", notifier_module.DEFAULTS))


def test_each_notification_replaces_the_last(server):
    session, sink = start_sink({"min_interval": 0})
    try:
        for count, kind in enumerate(("objection.price", "objection.consult", "objection.stall"), start=1):
            sink.prompt_delivered(session, Prompt(kind=kind, text=kind, priority=HIGH))
            server.wait_for(count)
    finally:
        sink.session_ended(session, None)
    first, second, third = server.notifications
    assert [n["summary"] for n in server.notifications] == [
        "VoiceCoach: Price objection", "VoiceCoach: Consult objection", "VoiceCoach: Stall objection",
    ]
    # One VoiceCoach notification on screen at a time: each closes the one before.
    assert server.closed == [first["id"], second["id"]]
    notify_and_close = [call for call in server.calls if call in ("Notify", "CloseNotification")]
    assert notify_and_close == ["Notify", "CloseNotification", "Notify", "CloseNotification", "Notify"]


def test_the_most_urgent_waiting_prompt_is_shown_when_its_turn_comes(server):
    session, sink = start_sink({"min_interval": 0.5})
    try:
        sink.prompt_delivered(session, Prompt(kind="first", text="First", priority=HIGH))
        server.wait_for(1)
        for kind, priority in (("critical_one", CRITICAL), ("later_high", HIGH)):
            sink.prompt_delivered(session, Prompt(kind=kind, text=kind, priority=priority))
        notified = server.wait_for(2)
    finally:
        sink.session_ended(session, None)
    assert [n["summary"] for n in notified] == ["VoiceCoach: First", "VoiceCoach: Critical one"]
    assert notified[1]["hints"]["urgency"] == ("y", 2)
    assert notified[1]["at"] - notified[0]["at"] >= 0.45
    time.sleep(0.6)
    assert len(server.notifications) == 2  # the high one was superseded, not queued


def test_a_slow_notification_server_never_holds_up_the_call(on_bus):
    server = NotificationServer(on_bus.address, notify_delay=2.0).start()
    try:
        recorder = CallRecorder()
        lines = [PRICE_OBJECTION, ("prospect", "And I need to ask my wife.")] + [
            ("seller", f"Point number {n} is about the setup.") for n in range(20)
        ]
        started = time.monotonic()
        warnings = []
        summary = run_conversation(lines, plugins={"objections": {}, "notifier": {"min_interval": 0}},
                                   extra_plugins=[recorder], warnings=warnings)
        took = time.monotonic() - started
        assert price_prompt_of(summary)
        # Every prompt reached the other sinks at once, though Notify takes 2 s.
        assert recorder.prompts[-1][0] - started < 0.5
        # The end of the call waits for a notification being sent at most a bounded time.
        assert took < 2 * notifier_module.STOP_WAIT + 0.5
    finally:
        server.stop()


def test_a_notification_service_that_goes_away_mid_call_is_reported_once(on_bus):
    server = NotificationServer(on_bus.address).start()
    warnings = []
    session, sink = start_sink({"min_interval": 0}, warnings)
    try:
        sink.prompt_delivered(session, Prompt(kind="objection.price", text="Price", priority=HIGH))
        server.wait_for(1)
        server.stop()
        for text in ("Stall", "Consult"):
            sink.prompt_delivered(session, Prompt(kind="objection.other", text=text, priority=HIGH))
            time.sleep(0.2)
    finally:
        sink.session_ended(session, None)
    assert sink.sent == 1
    (warning,) = warnings
    assert warning.startswith("a desktop notification failed (")
    assert NAME in warning


def test_without_a_notification_service_one_warning_and_the_call_goes_on(on_bus):
    assert not on_bus.has_owner(NAME)
    warnings = []
    lines = [PRICE_OBJECTION, ("prospect", "I need to talk to my husband."), ("prospect", "Let me think about it.")]
    summary = run_conversation(lines, plugins=["objections", "notifier"], warnings=warnings)
    assert {p.kind for p in summary.prompts} >= {"objection.price", "objection.consult", "objection.stall"}
    (warning,) = notifier_warnings(warnings)
    assert "desktop notifications are off" in warning
    assert NAME in warning  # the service nobody provides
    assert "DBUS_SESSION_BUS_ADDRESS" in warning  # what to do
    assert "prompts still show in the terminal" in warning


def test_without_a_session_bus_one_warning_and_the_call_goes_on(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    warnings = []
    summary = run_conversation([PRICE_OBJECTION, ("prospect", "Let me think about it.")],
                               plugins=["objections", "notifier"], warnings=warnings)
    assert {p.kind for p in summary.prompts} >= {"objection.price", "objection.stall"}
    (warning,) = notifier_warnings(warnings)
    assert "desktop notifications are off" in warning and "DBUS_SESSION_BUS_ADDRESS" in warning


def test_titles_and_bodies():
    prompt = Prompt(kind="objection.price", text="Price: ask what they compare it to", priority=HIGH,
                    detail=["Ask what they compare it to", "Ask: What budget did you have in mind?"])
    assert title_for(prompt) == "VoiceCoach: Price objection"
    assert title_for(Prompt(kind="talk_ratio", text="x")) == "VoiceCoach: Talk ratio"
    assert body_for(prompt) == "Price: ask what they compare it to\nAsk what they compare it to"
    assert body_for(Prompt(kind="k", text="R&D <budget>", detail=["R&D <budget>"])) == "R&amp;D &lt;budget&gt;"


def test_an_unknown_priority_setting_is_refused_by_name():
    session = Session(make_profile({"notifier": {"min_priority": "urgent"}}), speakers=("seller",))
    with pytest.raises(ValueError, match="min_priority 'urgent'"):
        DesktopNotifications(session, session.settings("notifier", notifier_module.DEFAULTS))

