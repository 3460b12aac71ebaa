# The two commands a fresh Debian machine needs: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Debian packages the test suite uses: speech synthesis, a real audio server,
# PortAudio for sounddevice, a browser to render the HTML report, a D-Bus
# session bus for desktop notifications, PostgreSQL for the team database.
TEST_DEBS := espeak-ng sox libportaudio2 pulseaudio pulseaudio-utils chromium fonts-liberation dbus-daemon postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test venv system-deps clean

$(BIN)/voicecoach: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The example third-party plugin, installed from its folder like any other package.
$(VENV)/.example-plugin: examples/battle-cards/pyproject.toml $(BIN)/voicecoach
	$(BIN)/pip install --quiet -e examples/battle-cards
	touch $@

venv: $(BIN)/voicecoach

system-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

demo: venv
	$(BIN)/voicecoach demo

test: system-deps venv $(VENV)/.example-plugin
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
