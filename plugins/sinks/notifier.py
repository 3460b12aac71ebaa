"""The desktop notifier: high and critical prompts as desktop notifications.

During a video call the seller looks at the call window, not the terminal, so the
prompts that matter also pop up as notifications (D-Bus on Linux, Notification
Center on macOS, toasts on Windows, through desktop-notifier). Each new one
replaces the last instead of stacking, and they come at most one every
``min_interval`` seconds. Sending happens on a thread of its own: a slow or missing
notification service never holds up the call. Without one, the session says so
once and goes on.
"""

from __future__ import annotations

import asyncio
import collections
import html
import logging
import sys
import threading

from voicecoach import CRITICAL, PRIORITIES, hookimpl

try:  # imported with the plugin, so sessions do not wait on it
    from desktop_notifier import DesktopNotifier, Urgency
except ImportError:  # said once per session, where it matters
    DesktopNotifier = Urgency = None

DEFAULTS = {
    # The least urgent priority that still notifies: critical, high, medium or low.
    "min_priority": "high",
    # Seconds between two notifications. GNOME Shell shows a banner for 4 s
    # (NOTIFICATION_TIMEOUT in js/ui/messageTray.js) and Windows a toast for up to
    # 7 s (ToastDismissalReason.TimedOut), so one every 5 s can be read before the
    # next replaces it. Prompts that come sooner wait; when the turn comes, the
    # most urgent of them (the newest of equals) is shown and the rest dropped.
    "min_interval": 5.0,
    # Seconds before a notification closes itself (where the desktop allows it).
    "expire_seconds": 8,
    # Add the prompt's first detail line to the body when the text lacks it.
    "show_detail": True,
}
APP_NAME = "VoiceCoach"
# Prompts waiting for their turn; when more come, the oldest go.
QUEUE_SIZE = 8
# Seconds one call to the notification service may take before it counts as failed;
# the first may have to wait for the bus to start the desktop's notification daemon.
CALL_TIMEOUT = 3.0
CONNECT_TIMEOUT = 10.0
# Seconds session_ended waits for the prompt being sent when the call ends.
STOP_WAIT = 0.5


@hookimpl
def session_started(session):
    return DesktopNotifications(session, session.settings("notifier", DEFAULTS))


def title_for(prompt) -> str:
    """``objection.price`` -> ``VoiceCoach: Price objection``."""
    words = " ".join(reversed(prompt.kind.replace("_", " ").split(".")))
    return f"{APP_NAME}: {words[:1].upper()}{words[1:]}"


def body_for(prompt, show_detail: bool = True) -> str:
    lines = [prompt.text]
    if show_detail and prompt.detail and prompt.detail[0] not in prompt.text:
        lines.append(prompt.detail[0])
    body = "\n".join(lines)
    # Freedesktop notification servers read the body as markup: "R&D" must arrive escaped.
    return html.escape(body, quote=False) if sys.platform.startswith("linux") else body


class DesktopNotifications:
    def __init__(self, session, settings):
        min_priority = settings["min_priority"]
        if min_priority not in PRIORITIES:
            raise ValueError(
                f"notifier: min_priority {min_priority!r} is not one of {', '.join(PRIORITIES)}"
            )
        self.session = session
        self.lowest_rank = PRIORITIES.index(min_priority)
        self.min_interval = max(0.0, float(settings["min_interval"]))
        self.expire_seconds = max(1, int(settings["expire_seconds"]))
        self.show_detail = bool(settings["show_detail"])
        self.sent = 0  # notifications the service accepted
        self.off = False  # no notification service: nothing more is tried
        self._pending: collections.deque = collections.deque(maxlen=QUEUE_SIZE)
        self._stopping = False
        self._shown = None  # the identifier of the notification on screen
        self._failure_reported = False
        self._loop = asyncio.new_event_loop()
        self._main = None
        self._thread = threading.Thread(target=self._run, name="voicecoach-notifier", daemon=True)
        self._thread.start()

    # -- the dispatch thread: hand over and return at once ------------------------

    @hookimpl
    def prompt_delivered(self, session, prompt):
        if self.off or PRIORITIES.index(prompt.priority) > self.lowest_rank:
            return
        self._call_soon(self._arrived, prompt)

    @hookimpl
    def session_ended(self, session, summary):
        self._call_soon(self._begin_stop)
        self._thread.join(STOP_WAIT)
        if self._thread.is_alive():  # the service is still busy: give up on it
            self._call_soon(self._cancel)
            self._thread.join(STOP_WAIT)

    def _call_soon(self, callback, *args):
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop has closed: notifications are over
            pass

    # -- the notifier thread --------------------------------------------------------

    def _arrived(self, prompt):
        self._pending.append(prompt)
        self._wake.set()

    def _begin_stop(self):
        self._stopping = True
        self._wake.set()

    def _cancel(self):
        if self._main is not None:
            self._main.cancel()

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._wake = asyncio.Event()
        library_log = LibraryLog()
        try:
            self._main = self._loop.create_task(self._serve(library_log))
            self._loop.run_until_complete(self._main)
        except asyncio.CancelledError:
            pass
        finally:
            library_log.close()
            self._loop.close()

    async def _serve(self, library_log):
        notifier = await self._connect(library_log)
        if notifier is None:
            return
        loop = asyncio.get_running_loop()
        ready_at = 0.0
        while True:
            # State changes only in callbacks that run while this awaits: no lost wake-ups.
            self._wake.clear()
            delay = None
            if self._pending:
                delay = ready_at - loop.time()
                if delay <= 0:
                    await self._show(notifier, self._take_most_urgent(), library_log)
                    ready_at = loop.time() + self.min_interval
                    continue
            if self._stopping:
                return  # the call is over: a prompt still waiting for its turn is stale
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                pass

    def _take_most_urgent(self):
        """The most urgent waiting prompt, the newest of equals; the rest were superseded."""
        _, prompt = min(enumerate(self._pending), key=lambda item: (PRIORITIES.index(item[1].priority), -item[0]))
        self._pending.clear()
        return prompt

    async def _connect(self, library_log):
        """A notifier that reaches a notification service, or None after one warning."""
        if DesktopNotifier is None:
            self._turn_off("desktop-notifier is not installed", "pip install desktop-notifier")
            return None
        try:
            notifier = DesktopNotifier(app_name=APP_NAME, app_icon=None)
            # The first question to the service: on Linux it fails without a session
            # bus or when nobody owns org.freedesktop.Notifications.
            capabilities = await asyncio.wait_for(notifier.get_capabilities(), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            self._turn_off(f"the notification service did not answer within {CONNECT_TIMEOUT:g} s", how_to_fix())
            return None
        except Exception as error:
            self._turn_off(describe(error), how_to_fix())
            return None
        if not capabilities:  # desktop-notifier's stand-in where it cannot notify
            self._turn_off(library_log.last or "this system offers no notification service", how_to_fix())
            return None
        return notifier

    def _turn_off(self, reason, fix):
        self.off = True
        self._pending.clear()
        self.session.warn(
            f"desktop notifications are off: {reason}. To get them, {fix}; "
            "prompts still show in the terminal"
        )

    async def _show(self, notifier, prompt, library_log):
        if self._shown is not None:
            # Replace rather than stack: the prompt on screen is out of date.
            try:
                await asyncio.wait_for(notifier.clear(self._shown), CALL_TIMEOUT)
            except Exception:  # it expired or the seller closed it already
                pass
            self._shown = None
        dispatched = []
        library_log.last = None
        try:
            identifier = await asyncio.wait_for(
                notifier.send(
                    title=title_for(prompt),
                    message=body_for(prompt, self.show_detail),
                    # Critical ones show even in do-not-disturb on Linux, until replaced or closed.
                    urgency=Urgency.Critical if prompt.priority == CRITICAL else Urgency.Normal,
                    timeout=self.expire_seconds,
                    # desktop-notifier logs a failed send instead of raising; this says it worked.
                    on_dispatched=lambda: dispatched.append(True),
                ),
                CALL_TIMEOUT,
            )
        except asyncio.TimeoutError:
            reason = f"the notification service did not answer within {CALL_TIMEOUT:g} s"
        else:
            if dispatched:
                self._shown = identifier
                self.sent += 1
                return
            reason = library_log.last or "the notification service refused it"
        if not self._failure_reported:
            self._failure_reported = True
            self.session.warn(f"a desktop notification failed ({reason}); prompts still show in the terminal")


class LibraryLog(logging.Handler):
    """desktop-notifier reports failures as log warnings with tracebacks; while a
    session runs, keep the last one as a reason for our own single warning
    instead of printing it over the terminal view."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.last = None
        self.logger = logging.getLogger("desktop_notifier")
        self.propagate = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False

    def emit(self, record):
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {describe(record.exc_info[1])}"
        self.last = message

    def close(self):
        self.logger.removeHandler(self)
        self.logger.propagate = self.propagate
        super().close()


def describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def how_to_fix() -> str:
    if sys.platform == "darwin":
        fix = (
            "run VoiceCoach with a Python from python.org or Homebrew, whose Python.app may post "
            "to Notification Center, and allow Python in System Settings > Notifications"
        )
    elif sys.platform == "win32":
        fix = "turn notifications on in Settings > System > Notifications"
    else:
        fix = (
            "run VoiceCoach inside your desktop session, where DBUS_SESSION_BUS_ADDRESS is set "
            "and a notification service (GNOME, KDE, dunst, mako) runs"
        )
    return f"{fix}, or remove notifier from the profile"
