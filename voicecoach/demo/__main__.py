"""Regenerate the demo recording and its timing from script.yaml: python -m voicecoach.demo"""

from __future__ import annotations

import os

import click

from ..synth import SynthesisError, load_script, synthesize_call
from . import AUDIO_FILE, TIMING_FILE, demo_script_path


@click.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write here instead of over the packaged files.")
def main(out_dir):
    """Synthesize the demo call with espeak-ng (left = seller, right = prospect)."""
    out_dir = out_dir or os.path.dirname(demo_script_path())
    os.makedirs(out_dir, exist_ok=True)
    meta, lines = load_script(demo_script_path())
    try:
        call = synthesize_call(lines, title=meta.get("title", ""))
        call.write_stereo(os.path.join(out_dir, AUDIO_FILE))
    except SynthesisError as e:
        raise click.ClickException(str(e)) from None
    call.timing().write(os.path.join(out_dir, TIMING_FILE))
    click.echo(f"{len(call.lines)} lines, {call.duration:.1f} s -> {out_dir}")


main()
