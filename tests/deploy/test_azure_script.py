"""deploy/azure.sh against recording `az`, `docker`, `curl` and `uv` stand-ins on PATH
(`stub_cli.sh`): which commands run, in which order, with which arguments; what a re-run skips;
that --dry-run prints every command and runs none; clear parameter errors; secrets only in
files. When azure-cli is installed, every `az` call is also checked by its own parser."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "azure.sh"
STUB = Path(__file__).with_name("stub_cli.sh")
TENANT = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
CLIENT = "6731de76-14a6-49ae-97bc-6eba6914391e"
SECRET = "client~secret~value"
APP_URL = "https://entra-lab-test.azurewebsites.net"
IMAGE = "entralabtest.azurecr.io/entra-lab:t1"
ARGS = ["--resource-group", "rg-test", "--location", "westeurope", "--registry", "entralabtest",
        "--app", "entra-lab-test", "--tenant-id", TENANT, "--client-id", CLIENT,
        "--tag", "t1"]  # fmt: skip
EVERYTHING = {
    "existing": ["group", "acr", "plan", "webapp"],
    "roles": ["AcrPull", "Key Vault Secrets User"],
    "secret_key": "kept-session-signing-key",
    "redirect_uris": ["http://localhost:5000/getAToken", f"{APP_URL}/getAToken", f"{APP_URL}/"],
}


Run = tuple[subprocess.CompletedProcess[str], list[dict]]


def state_file(state: dict, path: Path) -> Path:
    """`state` (the keys of EVERYTHING) as the bash file the `az` stand-in sources."""
    path.write_text(
        f"EXISTING={shlex.quote(' ' + ' '.join(state.get('existing', [])) + ' ')}\n"
        f"ROLES={shlex.quote('|' + '|'.join(state.get('roles', [])) + '|')}\n"
        f"SECRET_KEY={shlex.quote(state.get('secret_key', ''))}\n"
        f"REDIRECT_URIS={shlex.quote(chr(9).join(state.get('redirect_uris', [])))}\n"
    )
    return path


def read_log(log: Path) -> list[dict]:
    """The stand-ins' records as calls: program, argv, files given, ENTRA_* environment."""
    calls: list[dict] = []
    if not log.exists():
        return calls
    for record in log.read_text().splitlines():
        kind, *fields = record.split("\x1f")
        if kind == "CALL":
            calls.append({"program": fields[0], "argv": fields[1:], "files": {}, "env": {}})
        elif kind == "FILE":
            calls[-1]["files"][fields[0]] = fields[1]
        elif kind == "ENV":
            calls[-1]["env"][fields[0]] = fields[1]
    return calls


def deploy(
    tmp_path: Path, *args: str, state: dict | None = None, env: dict[str, str] | None = None
) -> Run:
    """Run the script with the stand-ins first on PATH; return it and the recorded calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("az", "docker", "curl", "uv"):
        stub = bin_dir / name
        shutil.copyfile(STUB, stub)
        stub.chmod(0o755)
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AZ_", "ENTRA_")) and k not in ("CLIENT_SECRET", "TENANT_ID",
                                                                 "CLIENT_ID")}  # fmt: skip
    done = subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=ROOT,
        env={
            **base,
            "PATH": f"{bin_dir}{os.pathsep}{base['PATH']}",
            "STUB_LOG": str(log),
            "STUB_STATE": str(state_file(state or {}, tmp_path / "state.sh")),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, read_log(log)


def line(call: dict) -> str:
    return " ".join([call["program"], *call["argv"]])


def index(calls: list[dict], prefix: str) -> int:
    found = [i for i, call in enumerate(calls) if line(call).startswith(prefix)]
    assert found, f"no call starts with {prefix!r}:\n" + "\n".join(map(line, calls))
    return found[0]


def option(call: dict, name: str) -> str:
    return call["argv"][call["argv"].index(name) + 1]


def settings_of(calls: list[dict]) -> dict[str, str]:
    (call,) = [c for c in calls if line(c).startswith("az webapp config appsettings set")]
    (content,) = call["files"].values()
    return {item["name"]: item["value"] for item in json.loads(content)}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Scope: module. A first deployment: nothing exists yet."""
    return deploy(tmp_path_factory.mktemp("first-run"), *ARGS, env={"CLIENT_SECRET": SECRET})


def test_first_run_creates_everything_in_order(first_run: Run) -> None:
    done, calls = first_run
    assert done.returncode == 0, done.stderr
    order = [
        "az group create", "az acr create", "az acr login", "docker build", "docker push",
        "az appservice plan create", "az webapp create", "az webapp identity assign",
        "az role assignment create", "az webapp config set", "az webapp config container set",
        "az webapp config appsettings set", "az webapp update", "az ad app update", "curl",
    ]  # fmt: skip
    positions = [index(calls, prefix) for prefix in order]
    assert positions == sorted(positions), [line(calls[i]) for i in positions]

    build = calls[index(calls, "docker build")]
    assert option(build, "--platform") == "linux/amd64" and option(build, "--tag") == IMAGE
    assert build["argv"][-1] == "."
    assert calls[index(calls, "docker push")]["argv"] == ["push", IMAGE]
    assert "--is-linux" in calls[index(calls, "az appservice plan create")]["argv"]
    webapp = calls[index(calls, "az webapp create")]
    assert option(webapp, "--container-image-name") == IMAGE
    assert option(webapp, "--assign-identity") == "[system]"
    role = calls[index(calls, "az role assignment create")]
    assert option(role, "--role") == "AcrPull" and "registries/" in option(role, "--scope")
    assert option(role, "--assignee-object-id") == "11111111-2222-3333-4444-555555555555"
    configs = [json.loads(option(c, "--generic-configurations")) for c in calls
               if line(c).startswith("az webapp config set")]  # fmt: skip
    assert {"acrUseManagedIdentityCreds": True} in configs
    assert {"healthCheckPath": "/healthz"} in configs
    assert option(calls[index(calls, "az webapp update")], "--https-only") == "true"

    settings = settings_of(calls)
    assert settings == {
        "TENANT_ID": TENANT,
        "CLIENT_ID": CLIENT,
        "CLIENT_SECRET": SECRET,
        "REDIRECT_URI": f"{APP_URL}/getAToken",
        "SECRET_KEY": settings["SECRET_KEY"],
        "TRUST_PROXY": "true",
        "WEBSITES_PORT": "8000",
    }
    assert len(settings["SECRET_KEY"]) >= 43  # 48 random bytes, base64url
    uris = calls[index(calls, "az ad app update")]["argv"]
    assert uris[uris.index("--web-redirect-uris") + 1 :] == [f"{APP_URL}/getAToken", f"{APP_URL}/"]
    assert calls[index(calls, "curl")]["argv"][-1] == f"{APP_URL}/healthz"
    # Secrets never on a command line (ps shows them to every user), nor in the output.
    for call in calls:
        assert SECRET not in line(call) and settings["SECRET_KEY"] not in line(call)
    assert SECRET not in done.stdout + done.stderr
    assert settings["SECRET_KEY"] not in done.stdout + done.stderr


def test_a_rerun_creates_nothing_keeps_the_session_key_and_deploys_the_new_tag(
    tmp_path: Path,
) -> None:
    state = {**EVERYTHING, "redirect_uris": ["http://localhost:5000/getAToken"]}
    done, calls = deploy(tmp_path, *ARGS, "--no-smoke-test", state=state,
                         env={"CLIENT_SECRET": SECRET})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line(c) for c in calls if " create " in line(c) + " "] == []
    container = calls[index(calls, "az webapp config container set")]
    assert option(container, "--container-image-name") == IMAGE
    assert settings_of(calls)["SECRET_KEY"] == "kept-session-signing-key"
    update = calls[index(calls, "az ad app update")]["argv"]
    assert update[update.index("--web-redirect-uris") + 1 :] == [
        "http://localhost:5000/getAToken",
        f"{APP_URL}/getAToken",
        f"{APP_URL}/",
    ]  # the registration's URIs are kept: the list replaces them
    assert not [c for c in calls if c["program"] == "curl"]  # --no-smoke-test

    done, calls = deploy(tmp_path, *ARGS, "--no-smoke-test", state=EVERYTHING,
                         env={"CLIENT_SECRET": SECRET})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not [c for c in calls if line(c).startswith("az ad app update")]
    assert "already registered" in done.stderr


def test_dry_run_prints_every_command_and_runs_none(tmp_path: Path, first_run: Run) -> None:
    done, calls = deploy(tmp_path, *ARGS, "--dry-run", env={"CLIENT_SECRET": SECRET})
    assert done.returncode == 0, done.stderr
    assert calls == []
    printed = [ln.removeprefix("+ ") for ln in done.stderr.splitlines() if ln.startswith("+ ")]
    _, real = first_run
    # Each command of a real first run is in the plan, in the same order (the plan names
    # the principal and resource ids it cannot know yet as <principal-id>, <registry-id>).
    plan_programs = [p.split()[:4] for p in printed]
    assert plan_programs == [[c["program"], *c["argv"]][:4] for c in real]
    assert SECRET not in done.stdout + done.stderr


def test_parameters_missing_or_malformed_are_all_named_and_nothing_runs(tmp_path: Path) -> None:
    done, calls = deploy(tmp_path, "--registry", "x!", "--tenant-id", "contoso")
    assert done.returncode == 2
    for problem in ("--resource-group is required", "--location is required",
                    "--app is required", "--client-id is required",
                    "--tenant-id must be a GUID", "--registry must be 5-50 letters or digits",
                    "a client secret is required"):  # fmt: skip
        assert problem in done.stderr, done.stderr
    assert calls == []
    done, _ = deploy(tmp_path, *ARGS, "--frobnicate")
    assert done.returncode == 2 and "unknown option: --frobnicate" in done.stderr


@pytest.mark.parametrize(
    ("missing", "args", "env"),
    [
        (["az"], ARGS, {"CLIENT_SECRET": SECRET}),
        (["az", "docker"], [], {}),  # before the parameters are even looked at
        (["uv"], ARGS, {"CLIENT_SECRET": SECRET, "ENTRA_USERNAME": "u", "ENTRA_PASSWORD": "p"}),
    ],
    ids=["az", "az and docker, no parameters", "uv for the live smoke test"],
)
def test_missing_tools_are_named_in_one_line_before_anything_runs(
    tmp_path: Path, missing: list[str], args: list[str], env: dict[str, str]
) -> None:
    # Only the stand-ins and python3 on PATH, less the missing ones (bash itself by its path).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in {"az", "docker", "curl", "uv"} - set(missing):
        stub = bin_dir / name
        shutil.copyfile(STUB, stub)
        stub.chmod(0o755)
    (bin_dir / "python3").symlink_to(shutil.which("python3"))
    log = tmp_path / "calls.log"
    done = subprocess.run(
        [shutil.which("bash"), str(SCRIPT), *args],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "STUB_LOG": str(log), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr  # one line
    assert done.stderr.startswith(f"deploy/azure.sh: not found on PATH: {' '.join(missing)} ")
    assert "command not found" not in done.stderr
    assert not log.exists()  # nothing ran


def test_a_dry_run_needs_no_azure_cli(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(shutil.which("python3"))
    for tool in ("git", "mktemp", "chmod", "rm", "dirname", "tr", "sed", "grep"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    done = subprocess.run(
        [shutil.which("bash"), str(SCRIPT), *ARGS, "--dry-run"],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), "CLIENT_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "+ az group create" in done.stderr


def test_parameters_from_the_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    env = {"AZ_RESOURCE_GROUP": "rg-env", "AZ_LOCATION": "northeurope",
           "AZ_REGISTRY": "entralabenv", "AZ_APP": "entra-lab-env", "TENANT_ID": TENANT,
           "CLIENT_ID": CLIENT, "CLIENT_SECRET_FILE": str(secret_file),
           "AZ_IMAGE_TAG": "t2"}  # fmt: skip
    done, calls = deploy(tmp_path, "--no-smoke-test", env=env)
    assert done.returncode == 0, done.stderr
    assert option(calls[index(calls, "az group create")], "--location") == "northeurope"
    assert (
        option(calls[index(calls, "docker build")], "--tag")
        == "entralabenv.azurecr.io/entra-lab:t2"
    )
    assert (
        option(calls[index(calls, "az appservice plan create")], "--name") == "entra-lab-env-plan"
    )
    assert settings_of(calls)["CLIENT_SECRET"] == SECRET


def test_key_vault_holds_the_secret_and_the_app_setting_references_it(tmp_path: Path) -> None:
    done, calls = deploy(tmp_path, *ARGS, "--key-vault", "kv-test", "--no-smoke-test",
                         env={"CLIENT_SECRET": SECRET})  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored = calls[index(calls, "az keyvault secret set")]
    assert option(stored, "--name") == "entra-lab-client-secret"
    assert list(stored["files"].values()) == [SECRET]
    grant = [c for c in calls if line(c).startswith("az role assignment create")]
    assert [option(c, "--role") for c in grant] == ["AcrPull", "Key Vault Secrets User"]
    assert "vaults/" in option(grant[1], "--scope")
    assert settings_of(calls)["CLIENT_SECRET"] == (
        "@Microsoft.KeyVault(VaultName=kv-test;SecretName=entra-lab-client-secret)"
    )


def test_smoke_test_runs_the_live_suites_against_the_app(tmp_path: Path) -> None:
    done, calls = deploy(tmp_path, *ARGS, state=EVERYTHING, env={
        "CLIENT_SECRET": SECRET, "ENTRA_USERNAME": "tester@contoso.example",
        "ENTRA_PASSWORD": "pw"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = calls[index(calls, "uv run conformance run")]
    assert run["argv"][:5] == ["run", "conformance", "run", "--target", "live"]
    assert run["env"]["ENTRA_APP_URL"] == APP_URL
    assert run["env"]["ENTRA_TENANT_ID"] == TENANT and run["env"]["ENTRA_CLIENT_SECRET"] == SECRET
    assert index(calls, "curl") < index(calls, "uv run conformance")


# -- --secretless: a user-assigned identity trusted by the registration, no secret ----------

IDENTITY_ID = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"  # noqa: E501
IDENTITY_CLIENT = "3d1f5c2b-7a4e-4b8f-9c61-2e0d8a7b5f43"  # what the `az` stand-in answers
IDENTITY_PRINCIPAL = "9a6e2d47-1c3b-4f5a-8e20-7b4c1d9f6a85"


@pytest.fixture(scope="module")
def secretless_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Scope: module. A first secretless deployment: nothing exists yet."""
    user = {"ENTRA_USERNAME": "tester@contoso.example", "ENTRA_PASSWORD": "pw"}
    return deploy(tmp_path_factory.mktemp("secretless"), *ARGS, "--secretless", env=user)


def test_secretless_gives_the_web_app_an_identity_the_registration_trusts(
    secretless_run: Run,
) -> None:
    done, calls = secretless_run
    assert done.returncode == 0, done.stderr
    order = [
        "az webapp create", "az identity create", "az webapp identity assign --resource-group"
        " rg-test --name entra-lab-test --identities", "az webapp config appsettings set",
        "az webapp config appsettings delete", "az ad app update",
        "az ad app federated-credential create", "curl",
    ]  # fmt: skip
    positions = [index(calls, prefix) for prefix in order]
    assert positions == sorted(positions), [line(calls[i]) for i in positions]
    created = calls[index(calls, "az identity create")]
    assert option(created, "--name") == "entra-lab-test-identity"
    assert option(created, "--location") == "westeurope"
    assigned = calls[index(calls, "az webapp identity assign --resource-group rg-test --name "
                                  "entra-lab-test --identities")]  # fmt: skip
    assert option(assigned, "--identities") == IDENTITY_ID
    # The system-assigned identity still pulls the image (AcrPull).
    assert option(calls[index(calls, "az webapp create")], "--assign-identity") == "[system]"
    assert option(calls[index(calls, "az role assignment create")], "--role") == "AcrPull"

    settings = settings_of(calls)
    assert "CLIENT_SECRET" not in settings
    assert settings["MANAGED_IDENTITY_CLIENT_ID"] == IDENTITY_CLIENT
    assert set(settings) == {"TENANT_ID", "CLIENT_ID", "MANAGED_IDENTITY_CLIENT_ID",
                             "REDIRECT_URI", "SECRET_KEY", "TRUST_PROXY",
                             "WEBSITES_PORT"}  # fmt: skip
    deleted = calls[index(calls, "az webapp config appsettings delete")]
    assert option(deleted, "--setting-names") == "CLIENT_SECRET"  # none left from before

    # Learn, "Configure an application to trust a managed identity".
    federated = calls[index(calls, "az ad app federated-credential create")]
    assert option(federated, "--id") == CLIENT
    (path, content) = next(iter(federated["files"].items()))
    assert option(federated, "--parameters") == path  # a file's path, as az wants it
    assert json.loads(content) == {
        "name": "entra-lab-test-managed-identity",
        "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "subject": IDENTITY_PRINCIPAL,
        "audiences": ["api://AzureADTokenExchange"],
        "description": "the managed identity of the Web App entra-lab-test",
    }
    # The live suites' own token requests need a secret the app does not have.
    assert "live suites skipped: they need a client secret of the registration" in done.stdout
    assert not [c for c in calls if c["program"] == "uv"]


def test_secretless_rerun_creates_nothing(tmp_path: Path) -> None:
    state = {**EVERYTHING, "existing": [*EVERYTHING["existing"], "identity", "fic"]}
    done, calls = deploy(tmp_path, *ARGS, "--secretless", "--no-smoke-test", state=state)
    assert done.returncode == 0, done.stderr
    assert [line(c) for c in calls if " create " in line(c) + " "] == []
    assert "already trusted: entra-lab-test-managed-identity" in done.stderr
    assert settings_of(calls)["MANAGED_IDENTITY_CLIENT_ID"] == IDENTITY_CLIENT


def test_secretless_dry_run_plans_the_same_commands(tmp_path: Path, secretless_run: Run) -> None:
    done, calls = deploy(tmp_path, *ARGS, "--secretless", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert calls == []
    printed = [ln.removeprefix("+ ") for ln in done.stderr.splitlines() if ln.startswith("+ ")]
    _, real = secretless_run
    assert [p.split()[:4] for p in printed] == [[c["program"], *c["argv"]][:4] for c in real]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--secretless"], {"CLIENT_SECRET": SECRET}),
        (["--secretless", "--key-vault", "kv-test"], {}),
    ],
    ids=["a secret", "a vault"],
)
def test_secretless_refuses_a_secret(tmp_path: Path, args: list[str], env: dict) -> None:
    done, calls = deploy(tmp_path, *ARGS, *args, env=env)
    assert done.returncode == 2
    assert "--secretless uses no client secret" in done.stderr
    assert calls == []


def test_secretless_from_the_environment_with_a_named_identity(tmp_path: Path) -> None:
    done, calls = deploy(tmp_path, *ARGS, "--no-smoke-test",
                         env={"AZ_SECRETLESS": "1", "AZ_IDENTITY": "shared-id"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert option(calls[index(calls, "az identity create")], "--name") == "shared-id"
    done, _ = deploy(tmp_path, *ARGS, "--secretless", "--identity", "x")
    assert done.returncode == 2 and "--identity must be 3-128" in done.stderr


def azure_cli_python() -> str | None:
    """A Python that has azure-cli: AZURE_CLI_PYTHON, Microsoft's package (/opt/az), or the
    interpreter named by the `az` script on PATH."""
    candidates = [os.environ.get("AZURE_CLI_PYTHON", ""), "/opt/az/bin/python3"]
    az = shutil.which("az")
    if az:
        first = Path(az).read_bytes()[:200].split(b"\n")[0].decode(errors="replace")
        candidates.append(first.removeprefix("#!").strip())
    for python in filter(None, candidates):
        if (
            Path(python).is_file()
            and subprocess.run(
                [python, "-c", "import azure.cli.core"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return python
    return None


def with_files(call: dict, where: Path) -> list[str]:
    """The call's argv with each file it was given (gone once the script ended) written again
    under `where`: az reads some (`--parameters FILE`) as it parses."""
    argv = list(call["argv"])
    for number, (path, content) in enumerate(call["files"].items()):
        again = where / f"given-{number}-{Path(path).name}"
        again.write_text(content)
        argv = [a.replace(path, str(again)) for a in argv]
    return argv


@pytest.mark.slow
def test_every_az_call_parses_with_azure_clis_own_parser(tmp_path: Path) -> None:
    python = azure_cli_python()
    if python is None:
        pytest.skip("azure-cli is not installed (set AZURE_CLI_PYTHON to its Python)")
    invocations = []
    for args, env in ((["--key-vault", "kv-test"], {"CLIENT_SECRET": SECRET}),
                      ([], {"CLIENT_SECRET": SECRET}), (["--secretless"], {})):  # fmt: skip
        _, calls = deploy(tmp_path, *ARGS, *args, env=env)
        invocations += [with_files(c, tmp_path) for c in calls if c["program"] == "az"]
    unique = [json.loads(a) for a in dict.fromkeys(json.dumps(a) for a in invocations)]
    done = subprocess.run(
        [python, str(Path(__file__).with_name("az_parse.py"))],
        input=json.dumps(unique), capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "AZURE_CONFIG_DIR": str(tmp_path / "azure-config")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(unique)
    assert [r for r in results if not r["ok"]] == []
