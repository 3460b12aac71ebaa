"""The session object every per-call hook receives, and the summary of a finished one."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from .events import Prompt
from .log import utc_now
from .profiles import Profile


class Session:
    """One coached call. Plugins reach configuration and helpers through it.

    ``id`` is a UUID, unique across machines, so logs of a whole team merge.
    ``now`` is the latest session time the pipeline has processed.
    """

    def __init__(
        self,
        profile: Profile,
        speakers: tuple[str, ...],
        source: str = "",
        transcriber: str = "",
        db_path: Optional[str] = None,
        warn: Optional[Callable[[str], None]] = None,
        live: bool = False,
    ):
        self.id = str(uuid.uuid4())
        # True when capturing devices as the call happens (not a replay).
        self.live = live
        self.profile = profile
        self.speakers = tuple(speakers)
        self.source = source
        self.transcriber = transcriber
        self.db_path = db_path
        self.started_at = utc_now()
        self.now = 0.0
        self._warn = warn or (lambda message: print(f"voicecoach: {message}", file=sys.stderr))
        self._warned: set[str] = set()
        self._channel_health: Callable[[], list] = lambda: []

    def channel_health(self) -> list[dict]:
        """Each captured channel's state now, for displays: ``speaker``, ``device``,
        ``state`` (listening, silent, lost) and ``level_db`` (dBFS of the last block).
        Empty for replays and transcripts."""
        return self._channel_health()

    def settings(self, plugin_name: str, defaults: Optional[dict] = None) -> dict:
        """``plugin_name``'s settings from the profile, over ``defaults``.

        Raises ValueError naming the setting when the profile has one the plugin
        does not declare in ``defaults``.
        """
        values = dict(defaults or {})
        configured = self.profile.settings_for(plugin_name)
        if defaults is not None:
            unknown = sorted(set(configured) - set(defaults))
            if unknown:
                raise ValueError(
                    f"{self.profile.path}: plugins.{plugin_name}.{unknown[0]} is not a setting of "
                    f"{plugin_name}; its settings are {', '.join(sorted(defaults)) or 'none'}"
                )
        values.update(configured)
        return values

    def warn(self, message: str) -> None:
        """Tell the user something went wrong, once per distinct message."""
        if message not in self._warned:
            self._warned.add(message)
            self._warn(message)


@dataclass
class SessionSummary:
    session_id: str
    profile: str
    status: str  # ended, interrupted, failed
    duration: float
    utterances: int
    talk_seconds: dict[str, float]
    prompts: list[Prompt] = field(default_factory=list)
    db_path: Optional[str] = None
    # Wall-clock seconds the pipeline ran, for the real-time factor.
    processing_seconds: float = 0.0
    error: Optional[str] = None
    # How the pipeline kept up: capture_to_vad_p95 (seconds from a block's capture
    # to its voice-activity decision, live and paced runs only), partials,
    # early_decodes_used, transcriber_restarts.
    stats: dict = field(default_factory=dict)

    @property
    def realtime_factor(self) -> float:
        return self.duration / self.processing_seconds if self.processing_seconds else 0.0
