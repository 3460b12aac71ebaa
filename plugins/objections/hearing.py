"""The training examples as the speech model hears them: ``examples/heard.yaml``.

On a call the objection model reads what tiny.en wrote, not what was said:
"premium" comes back "premiums", "I'll pass" as "I'll pause", punctuation where
the voice paused. This speaks every written example with espeak-ng and writes
down what the embedded speech model heard, with the example's label, so the
model is trained on both:

    python -m voicecoach_objections.hearing      # about 15 minutes on 2 cores

The voices and speeds rotate over ones that ``voicecoach eval --audio`` does not
use (it speaks the prospect as ``en-us+f3`` at 165 words a minute), so the audio
scores stay a test of hearing an unfamiliar voice. Only examples heard
differently from how they were written are kept. A build tool: it needs the
voicecoach core and espeak-ng; the coach itself never runs it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path

import yaml

from .training import example_files, load_examples

HEARD_FILE = "heard.yaml"
# Heard this far from the words, the text no longer says what the example said
# ("that's a lot of money for me" -> "that's Steve"): its label would teach noise.
MIN_WORDS_KEPT = 0.6
# (espeak-ng voice, words a minute): men and women, American and British, slow to brisk.
VOICES = [("en-us+m3", 150), ("en-gb+f2", 175), ("en-us+f4", 185), ("en-gb-x-rp+m1", 160),
          ("en-029+m2", 170), ("en-us+f1", 195)]


def heard_path() -> Path:
    return Path(str(files(__package__).joinpath("examples", HEARD_FILE)))


def written_examples() -> list[tuple[str, str]]:
    """Every example except those this tool wrote."""
    return load_examples([entry for entry in example_files() if entry.name != HEARD_FILE])


def hear(pairs: list[tuple[str, str]], workers: int = 2) -> list[tuple[str, str]]:
    """(heard text, category) for each of ``pairs`` the speech model heard differently."""
    from voicecoach.default_plugins.faster_whisper_transcriber import faster_whisper
    from voicecoach.synth import ScriptLine, synthesize_call

    engine = faster_whisper(context_seconds=0)
    engine.warm_up()

    def one(text):
        # The voice by the words alone, as the cache is: editing one examples file does
        # not make every other example heard anew. (The committed heard.yaml holds some
        # heard in other voices, chosen earlier: an empty cache gives the same kind of
        # text, not the same text.)
        voice, speed = VOICES[zlib.crc32(text.encode("utf-8")) % len(VOICES)]
        call = synthesize_call([ScriptLine("prospect", text)], voices={"prospect": voice}, speed=speed, tail=0.3)
        return engine.transcribe(call.prospect).text.strip()

    cache = _cache_path()
    known = json.loads(cache.read_text()) if cache.exists() else {}
    todo = [text for text, _ in pairs if text not in known]
    with ThreadPoolExecutor(workers) as pool:
        known.update(zip(todo, pool.map(one, todo)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(known))
    return [(known[written], category) for written, category in pairs
            if known[written] and _plain(known[written]) != _plain(written)
            and _words_kept(written, known[written]) >= MIN_WORDS_KEPT]


def _cache_path() -> Path:
    """What was heard before, so that new examples are the only ones spoken again."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "voicecoach" / "heard-examples.json"


def _plain(text: str) -> str:
    return " ".join(_words(text))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _words_kept(written: str, said: str) -> float:
    return difflib.SequenceMatcher(None, _words(written), _words(said), autojunk=False).ratio()


def write(heard: list[tuple[str, str]], path: Path) -> None:
    by_category: dict[str, list[str]] = {}
    for text, category in heard:
        by_category.setdefault(category, []).append(text)
    header = ("# Written by `python -m voicecoach_objections.hearing`: the other examples files\n"
              "# spoken by espeak-ng and transcribed by the embedded tiny.en, kept where heard\n"
              "# differently from how they were written. Do not edit; run the tool again.\n")
    path.write_text(header + yaml.safe_dump({"examples": by_category}, allow_unicode=True, width=1000,
                                            sort_keys=False), encoding="utf-8")


def main(argv: list[str]) -> int:
    if "--help" in argv or "-h" in argv:
        print(__doc__)
        return 0
    pairs = written_examples()
    heard = hear(pairs)
    write(heard, heard_path())
    print(f"wrote {heard_path()}: {len(heard)} of {len(pairs)} examples heard differently")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
