"""Press ``q`` to stop: the same clean stop as Ctrl-C, one key in the terminal.

While a call runs, a watcher thread reads single key presses from the terminal
(cbreak mode: no Enter needed) and, on ``q``, interrupts the main thread exactly
as Ctrl-C does, so the log is flushed and the summary printed. The terminal's
settings are restored afterwards. Without a terminal on stdin (pipes, CI,
scripts) nothing is read.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
from contextlib import contextmanager

STOP_KEYS = {"q", "Q"}


@contextmanager
def stop_on_q_key():
    """Within this block, ``q`` pressed in the terminal stops the call like Ctrl-C."""
    if not sys.stdin or not sys.stdin.isatty():
        yield False
        return
    try:
        import termios
        import tty
    except ImportError:  # Windows
        with _windows_watcher():
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
                key = os.read(fd, 1).decode(errors="ignore")
                if key in STOP_KEYS:
                    _thread.interrupt_main()
                    return

    watcher = threading.Thread(target=watch, name="voicecoach-keys", daemon=True)
    watcher.start()
    try:
        yield True
    finally:
        done.set()
        watcher.join(timeout=1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextmanager
def _windows_watcher():
    import msvcrt  # documented console API; not exercised by the Linux test suite

    done = threading.Event()

    def watch():
        while not done.wait(0.2):
            while msvcrt.kbhit():
                if msvcrt.getwch() in STOP_KEYS:
                    _thread.interrupt_main()
                    return

    watcher = threading.Thread(target=watch, name="voicecoach-keys", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
