"""`mock_entra.testcontainers.config_text`: every form of `config=` becomes the text
MOCK_ENTRA_CONFIG carries, which the container reads back to the same config (no engine
needed; tests/containers/test_mock_image.py runs the container)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    config_text_format,
    config_to_dict,
    load_config,
    load_config_value,
)
from mock_entra.testcontainers import MAX_CONFIG_TEXT, config_text

EXAMPLE = Path(__file__).parents[2] / "examples" / "mock-entra.toml"


@pytest.mark.parametrize(
    "given",
    [
        load_config(EXAMPLE),
        config_to_dict(load_config(EXAMPLE)),
        EXAMPLE,
        EXAMPLE.read_text(),
    ],
    ids=["MockConfig", "dict", "Path", "TOML text"],
)
def test_every_form_of_config_reads_back_in_the_container_as_the_same(given):
    text = config_text(given)
    assert config_text_format(text) is not None  # never taken for a path
    assert load_config_value(text) == load_config(EXAMPLE)


def test_one_line_of_toml_stays_text(tmp_path: Path):
    one = tmp_path / "one.toml"
    one.write_text('extends = "defaults"')  # no line break at the end
    assert load_config_value(config_text(one)) == DEFAULT_CONFIG
    assert load_config_value(config_text('extends = "defaults"')) == DEFAULT_CONFIG


def test_a_config_too_large_for_an_environment_variable_says_mount_it():
    with pytest.raises(ValueError, match="mount it as a file"):
        config_text("#" * MAX_CONFIG_TEXT + "\n")
