"""The live target reads `ENTRA_*` once and names every problem in one message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.targets import (
    DEFAULT_GRAPH_ENDPOINT,
    LIVE_OPTIONAL,
    LIVE_REQUIRED,
    TargetConfigError,
    live_target_from_env,
    unreachable,
)
from mock_entra.ports import free_port
from tests.docs.test_env_example import source_env_example

ROOT = Path(__file__).resolve().parents[2]
COMPLETE = {
    "ENTRA_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "ENTRA_CLIENT_ID": "6731de76-14a6-49ae-97bc-6eba6914391e",
    "ENTRA_CLIENT_SECRET": "s3cret",
    "ENTRA_APP_URL": "https://entra-lab.azurewebsites.net/",
    "ENTRA_USERNAME": "adele@contoso.onmicrosoft.com",
    "ENTRA_PASSWORD": "pw",
}


def clean_env() -> dict[str, str]:
    """This process's environment without any ENTRA_* or CONFORMANCE_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ENTRA_", "CONFORMANCE_"))}


@pytest.mark.slow  # a nested pytest per case (the messages are checked in-process below)
@pytest.mark.parametrize("how", [["--target", "live"], []], ids=["option", "CONFORMANCE_TARGET"])
def test_live_target_without_variables_exits_once_naming_every_missing_variable(
    how: list[str],
) -> None:
    env = clean_env() | ({} if how else {"CONFORMANCE_TARGET": "live"})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *how, "-p", "no:cacheprovider", "conformance/suites"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert output.count("--target live cannot start") == 1, output
    for name in LIVE_REQUIRED:
        assert name in output, f"{name} not named:\n{output}"
    for name in LIVE_OPTIONAL:
        assert f"missing environment variables: {name}" not in output
    assert "Traceback" not in output and " FAILED " not in output, output


def test_live_target_fills_in_the_documented_defaults() -> None:
    target = live_target_from_env(COMPLETE)
    assert target.kind == "live"
    assert target.authority == f"https://login.microsoftonline.com/{COMPLETE['ENTRA_TENANT_ID']}"
    assert target.app_url == "https://entra-lab.azurewebsites.net"
    assert target.redirect_uri == "https://entra-lab.azurewebsites.net/getAToken"
    assert target.graph_endpoint == DEFAULT_GRAPH_ENDPOINT
    assert target.is_microsoft_host and target.ca_bundle is None
    assert [u.username for u in target.users] == [COMPLETE["ENTRA_USERNAME"]]
    assert "s3cret" not in repr(target)


def test_live_target_collects_every_malformed_value_in_one_error(tmp_path: Path) -> None:
    env = COMPLETE | {
        "ENTRA_APP_URL": "http://app.example.com",
        "ENTRA_AUTHORITY": "http://login.example.com/t",
        "ENTRA_CA_BUNDLE": str(tmp_path / "missing.pem"),
        "ENTRA_USERNAME_2": "megan@contoso.onmicrosoft.com",
    }
    with pytest.raises(TargetConfigError) as caught:
        live_target_from_env(env)
    problems = "\n".join(caught.value.problems)
    assert len(caught.value.problems) == 4, problems
    for name in ("ENTRA_APP_URL", "ENTRA_AUTHORITY", "ENTRA_CA_BUNDLE", "ENTRA_PASSWORD_2"):
        assert name in problems


def test_live_target_with_a_second_user_and_a_local_authority(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem")
    target = live_target_from_env(
        COMPLETE
        | {
            "ENTRA_AUTHORITY": "https://localhost:8443/tenant/",
            "ENTRA_APP_URL": "http://localhost:5000",
            "ENTRA_CA_BUNDLE": str(ca),
            "ENTRA_USERNAME_2": "megan@contoso.onmicrosoft.com",
            "ENTRA_PASSWORD_2": "pw2",
        }
    )
    assert target.authority == "https://localhost:8443/tenant"
    assert not target.is_microsoft_host
    assert target.ca_bundle == str(ca)
    assert [u.username for u in target.users][1] == "megan@contoso.onmicrosoft.com"


def test_env_example_documents_every_live_variable() -> None:
    text = (ROOT / ".env.example").read_text()
    for name in (*LIVE_REQUIRED, *LIVE_OPTIONAL, "CONFORMANCE_TARGET"):
        assert f"{name}=" in text, name


def test_an_unfilled_env_example_is_refused_naming_each_placeholder(tmp_path: Path) -> None:
    # .env.example copied, the secrets filled in, the ids and URLs left as they were.
    env = source_env_example(tmp_path)
    env |= {"ENTRA_CLIENT_SECRET": "s3cret", "ENTRA_PASSWORD": "pw"}
    with pytest.raises(TargetConfigError) as caught:
        live_target_from_env(env)
    problems = caught.value.problems
    named = [p.split(" ", 1)[0] for p in problems]
    assert named == ["ENTRA_TENANT_ID", "ENTRA_CLIENT_ID", "ENTRA_APP_URL", "ENTRA_USERNAME"]
    assert all("is still a placeholder" in p for p in problems), problems


def test_a_client_id_must_be_a_guid() -> None:
    with pytest.raises(TargetConfigError, match="ENTRA_CLIENT_ID must be the application"):
        live_target_from_env(COMPLETE | {"ENTRA_CLIENT_ID": "my-app"})


def test_an_unreachable_authority_and_app_are_one_line() -> None:
    closed = free_port()  # nothing listens there
    target = live_target_from_env(
        COMPLETE
        | {
            "ENTRA_AUTHORITY": "https://login.invalid/t",
            "ENTRA_APP_URL": f"http://localhost:{closed}",
        }
    )
    problem = unreachable(target)
    assert problem is not None and "\n" not in problem
    assert problem.startswith("cannot reach login.invalid (the name does not resolve")
    assert f"localhost:{closed} (Connection refused)" in problem


def test_a_reachable_target_passes(mock_entra_server) -> None:
    target = live_target_from_env(
        COMPLETE
        | {
            "ENTRA_AUTHORITY": mock_entra_server.authority,
            "ENTRA_APP_URL": mock_entra_server.base_url,
        }
    )
    assert unreachable(target) is None


@pytest.mark.slow  # a nested pytest
def test_live_target_without_network_stops_once_before_any_test() -> None:
    env = clean_env() | COMPLETE | {"ENTRA_AUTHORITY": "https://login.invalid/t"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--target", "live", "-p", "no:cacheprovider",
         "conformance/suites"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output
    lines = [line for line in output.splitlines() if "cannot reach" in line]
    assert len(lines) == 1 and "login.invalid" in lines[0], output
    assert "NameResolutionError" not in output and " FAILED " not in output, output
