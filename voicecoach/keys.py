"""One-key controls during a call: ``q`` stops, ``+`` / ``-`` rate the prompt on screen.

While a call runs, a watcher thread reads single key presses from the terminal
(cbreak mode: no Enter needed). ``q`` stops the call exactly as Ctrl-C does
(even in a run started with SIGINT ignored), so the log is flushed and the
summary printed; ``+`` (or ``y``) and
``-`` (or ``n``) mark the last prompt useful or not, which the log keeps and the
report shows per plugin. The terminal's settings are restored afterwards.
Without a terminal on stdin (pipes, CI, scripts) nothing is read.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
from contextlib import contextmanager

STOP_KEYS = {"q", "Q"}
USEFUL_KEYS = {"+", "=", "y", "Y"}
NOT_USEFUL_KEYS = {"-", "_", "n", "N"}
HELP = "q stops, + / - rate the prompt on screen"


class CallControls:
    """What the keys act on: the coach functions hand it the running pipeline."""

    def __init__(self):
        self.pipeline = None

    def key(self, key: str) -> bool:
        """Act on one key press; True when it was the stop key."""
        if key in STOP_KEYS:
            if self.pipeline is not None:
                # What Ctrl-C's handler does, without needing SIGINT: a run started
                # with SIGINT ignored (nohup, a background job) still stops on q.
                self.pipeline.stop()
            else:  # still starting: interrupt the main thread as Ctrl-C would
                _thread.interrupt_main()
            return True
        if self.pipeline is not None and key in USEFUL_KEYS | NOT_USEFUL_KEYS:
            self.pipeline.feedback(key in USEFUL_KEYS)
        return False


@contextmanager
def terminal_keys(controls: CallControls):
    """Within this block, key presses in the terminal act on ``controls``.

    Yields whether keys are being read (False without a terminal).
    """
    if not sys.stdin or not sys.stdin.isatty():
        yield False
        return
    try:
        import termios
        import tty
    except ImportError:  # Windows
        with _windows_watcher(controls):
            yield True
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    done = threading.Event()

    def watch():
        import select

        while not done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready and not done.is_set():
                if controls.key(os.read(fd, 1).decode(errors="ignore")):
                    return

    watcher = threading.Thread(target=watch, name="voicecoach-keys", daemon=True)
    watcher.start()
    try:
        yield True
    finally:
        done.set()
        watcher.join(timeout=1)
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        except termios.error:
            pass  # the terminal was closed during the call: nothing to give back


@contextmanager
def _windows_watcher(controls: CallControls):
    import msvcrt  # documented console API; not exercised by the Linux test suite

    done = threading.Event()

    def watch():
        while not done.wait(0.2):
            while msvcrt.kbhit():
                if controls.key(msvcrt.getwch()):
                    return

    watcher = threading.Thread(target=watch, name="voicecoach-keys", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
