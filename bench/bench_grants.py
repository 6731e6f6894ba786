"""Benchmark the user grants in process (not a test): the authorization-code and refresh-token
redemptions as the token endpoint runs them (`grants.dispatch.exchange`: client
authentication, the store's records, consent, claims, RS256 signing), without HTTP, so that
what the store and its records cost is not drowned by TLS and the load generator.

Each grant runs for `--seconds` of CPU time, `--rounds` times, alternating; the median rate
(grants per CPU second) is printed.
`--fault` puts a token fault in force for another user, so that each redemption also reads
its code or refresh token first (to find the user), as the fault check does. To compare two
checkouts side by side, run it from each in turn:

    uv run python bench/bench_grants.py [--seconds 3] [--rounds 3] [--fault] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mock_entra.core.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from mock_entra.core.grants import dispatch
from mock_entra.core.signin import authorize, codes
from mock_entra.core.store.records import Account
from mock_entra.intercept import MockEntraInterceptor

BASE = "https://login.microsoftonline.com"
REDIRECT = "http://localhost:5000/getAToken"
SCOPE = "User.Read openid profile offline_access"
CLAIMS = '{"access_token":{"xms_cc":{"values":["CP1"]}}}'
CLIENT = {"client_id": [DEFAULT_CLIENT_ID], "client_secret": [DEFAULT_CLIENT_SECRET]}


def rate(run: Callable[[], None], seconds: float) -> float:
    """Grants per second of this process's CPU time: on a machine shared with other work, the
    wall clock measures the neighbours as much as the mock."""
    done, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        run()
        done += 1
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fault", action="store_true", help="a token fault for another user")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mock-entra-bench-") as state:
        mock = MockEntraInterceptor(state_dir=Path(state))
        rt = mock.runtime
        tenant = rt.config.tenant(DEFAULT_TENANT_ID)
        assert tenant is not None
        user = tenant.users[0]
        account = Account(user.object_id, tenant.tenant_id, int(time.time()))
        params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "scope": SCOPE}
        params["redirect_uri"] = REDIRECT
        request, _, _ = authorize.validate(
            rt, None, DEFAULT_TENANT_ID, {k: [v] for k, v in params.items()}
        )
        rt.add_consent(tenant, user.object_id, DEFAULT_CLIENT_ID, request.scopes.consent_key())

        def exchange(form: dict[str, list[str]]) -> dict:
            return dispatch.exchange(
                rt, DEFAULT_TENANT_ID, {**CLIENT, **form}, authorization=None, base_url=BASE
            )

        def code_grant() -> None:
            code = codes.issue(rt, request, tenant, account, sid="bench").params[0][1]
            form = {"grant_type": ["authorization_code"], "code": [code]}
            exchange({**form, "redirect_uri": [REDIRECT], "claims": [CLAIMS]})

        tokens = [
            exchange(
                {
                    "grant_type": ["authorization_code"],
                    # Its own sign-in: the code grants' refresh tokens are another family.
                    "code": [codes.issue(rt, request, tenant, account, sid="chain").params[0][1]],
                    "redirect_uri": [REDIRECT],
                }
            )["refresh_token"]
        ]

        def refresh_grant() -> None:  # with the newest token, as a client does
            form = {
                "grant_type": ["refresh_token"],
                "refresh_token": [tokens[0]],
                "claims": [CLAIMS],
            }
            tokens[0] = exchange({**form, "scope": [SCOPE]})["refresh_token"]

        other = tenant.users[1].username
        fault = (
            mock.scenario("token.server_error", user=other)
            if args.fault
            else contextlib.nullcontext()
        )
        results: dict[str, list[float]] = {"authorization_code": [], "refresh_token": []}
        with fault:
            for _ in range(args.rounds):
                results["authorization_code"].append(rate(code_grant, args.seconds))
                results["refresh_token"].append(rate(refresh_grant, args.seconds))
        mock.stop()
    summary = {name: round(statistics.median(r), 1) for name, r in results.items()}
    print(json.dumps({"grants_per_cpu_s": summary, "rounds": results, "fault": args.fault}))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
