"""A real PulseAudio server with two null sinks standing for the call and the microphone.

Whatever is played into a sink with ``paplay`` is captured from its ``.monitor``
source, exactly as a call app's output is captured on a seller's laptop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid


class PulseServer:
    def __init__(self):
        self.started_here = False
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
        if subprocess.run(["pulseaudio", "--check"]).returncode != 0:
            subprocess.run(
                ["pulseaudio", "--start", "--exit-idle-time=-1", "--log-target=stderr"],
                check=True, capture_output=True,
            )
            self.started_here = True
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
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
        if self.started_here:
            subprocess.run(["pulseaudio", "--kill"], capture_output=True)
