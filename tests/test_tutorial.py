"""docs/tutorial.md, followed to the letter: a plugin from an empty folder to a prompt in the demo."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"

pytestmark = pytest.mark.slow


def tutorial_files() -> dict:
    """The files the tutorial tells the reader to write: name -> content."""
    text = TUTORIAL.read_text()
    return dict(re.findall(r"^`([\w.-]+)`:\n\n```\w+\n(.*?)```", text, re.S | re.M))


@pytest.fixture
def installed_plugin(tmp_path):
    files = tutorial_files()
    assert set(files) == {"voicecoach_spreadsheet.py", "pyproject.toml", "my-demo.yaml", "test_spreadsheet.py"}
    folder = tmp_path / "voicecoach-spreadsheet"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_text(content)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "-e", str(folder)]
    subprocess.run(pip, check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "-y", "voicecoach-spreadsheet"],
                       capture_output=True)


def test_the_tutorial_plugin_is_listed_prompts_in_the_demo_and_its_tests_pass(installed_plugin, tmp_path):
    listed = subprocess.run([sys.executable, "-m", "voicecoach", "plugins"], capture_output=True, text=True, check=True)
    assert "spreadsheet" in listed.stdout
    demo = subprocess.run(
        [sys.executable, "-m", "voicecoach", "demo", "--fast", "--profile", "my-demo.yaml",
         "--db", str(tmp_path / "log.db")],
        cwd=installed_plugin, capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    assert "HIGH  Spreadsheet: ask how many hours a week it costs them" in demo.stdout
    assert 'because prospect said: "I do it myself in a spreadsheet' in demo.stdout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_spreadsheet.py"],
                           cwd=installed_plugin, capture_output=True, text=True)
    assert tests.returncode == 0 and "2 passed" in tests.stdout, tests.stdout
