"""The shipped scenario profiles (YAML data, no code)."""
