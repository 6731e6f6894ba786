"""Options for every test under tests/: the Hypothesis profile (see `hypothesis_profiles`),
loaded here, before the test modules (and their `@settings`) are imported."""

from tests.hypothesis_profiles import load_profile

load_profile()
