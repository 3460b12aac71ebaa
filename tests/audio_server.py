"""A private PulseAudio server with two null sinks standing for the call and the microphone.

Whatever is played into a sink with ``paplay`` is captured from its ``.monitor``
source, exactly as a call app's output is captured on a seller's laptop.

The server is the test run's own: it listens on a socket in a temporary folder and
``PULSE_SERVER`` points this process (pactl, paplay, PortAudio's ALSA ``pulse``
device) at it, so the tests never touch the developer's desktop audio and two
test runs side by side do not disturb each other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid


class PulseServer:
    def __init__(self):
        self.daemon: subprocess.Popen | None = None
        self.previous_server = os.environ.get("PULSE_SERVER")
        self.modules: list[str] = []
        suffix = uuid.uuid4().hex[:6]
        self.call_sink = f"vc_call_{suffix}"
        self.mic_sink = f"vc_mic_{suffix}"

    @property
    def call_monitor(self) -> str:
        return f"{self.call_sink}.monitor"

    @property
    def mic_monitor(self) -> str:
        return f"{self.mic_sink}.monitor"

    def start(self) -> "PulseServer":
        if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
            raise RuntimeError("install pulseaudio and pulseaudio-utils (make test does)")
        self.folder = tempfile.mkdtemp(prefix="voicecoach-pulse-")
        socket = os.path.join(self.folder, "native")
        environment = dict(os.environ, PULSE_RUNTIME_PATH=self.folder, PULSE_STATE_PATH=self.folder)
        environment.pop("PULSE_SERVER", None)
        self.daemon = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                "--disallow-module-loading=no", "--log-target=stderr", "--log-level=error",
                "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
            ],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        os.environ["PULSE_SERVER"] = f"unix:{socket}"
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
            if self.daemon.poll() is not None:
                raise RuntimeError(f"PulseAudio did not start: {self.daemon.stderr.read().decode().strip()}")
            if time.monotonic() > deadline:
                raise RuntimeError("PulseAudio did not come up")
            time.sleep(0.1)
        self.call_module = self.load_sink(self.call_sink)
        self.mic_module = self.load_sink(self.mic_sink)
        return self

    def load_sink(self, name: str) -> str:
        module = subprocess.run(
            ["pactl", "load-module", "module-null-sink", f"sink_name={name}", "rate=16000", "channels=1"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        self.modules.append(module)
        return module

    def unload(self, module: str) -> None:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)
        if module in self.modules:
            self.modules.remove(module)

    def play(self, path: str, sink: str) -> subprocess.Popen:
        return subprocess.Popen(["paplay", "-d", sink, path])

    def stop(self) -> None:
        for module in list(self.modules):
            self.unload(module)
        if self.daemon is not None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        if self.previous_server is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = self.previous_server
        shutil.rmtree(self.folder, ignore_errors=True)
