"""The test controls of a mock, one API however it runs: `MockControls`, a protocol that
`MockEntra` (a live server, its worker processes sharing the state dir's store) and
`MockEntraInterceptor` (in-process) both subclass, and so share its one implementation over
the mock's store and clock (PEP 544: a class that subclasses a protocol explicitly inherits its
methods). The admin API (`web.admin`) makes the same store calls over HTTP.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mock_entra.core.faults import Activation, switched_on
from mock_entra.core.runtime import fix_token_lifetime

if TYPE_CHECKING:
    from mock_entra.core.config import MockConfig
    from mock_entra.core.store.backend import StoreBackend


class MovableClock(Protocol):
    """The mock's clock as a test sees it: read it, move it (no waiting for expiry)."""

    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


@runtime_checkable
class MockControls(Protocol):
    """What a test can do to a mock, implemented over `store` and `clock`; a handle provides
    them, `config` and `authority`, and refuses what it cannot honour in `_require_controls`
    (tests/mock_entra/test_controls.py holds both handles to the same behaviour)."""

    config: MockConfig
    store: StoreBackend
    clock: MovableClock

    @property
    def authority(self) -> str:
        """The tenant's authority URL, as clients configure it."""
        ...

    def _require_controls(self, what: str) -> None:
        """Raise if this mock would ignore the control `what` (by default it never does)."""

    @property
    def tenant_id(self) -> str:
        return self.config.default_tenant.tenant_id

    def requests(self) -> list[dict[str, Any]]:
        """The request log: method, path, query, form (secrets redacted), headers, status."""
        return self.store.requests()

    def reset(self) -> None:
        """Forget codes, tokens, sessions, consents, the log, the scenarios and settings set at
        run time (token lifetime, active key) and the store's clock offset: a live mock's clock
        is the wall clock again; an interceptor's `FixedClock` is the caller's and stays."""
        self.store.reset()

    def scenario(
        self,
        name: str,
        *,
        client_id: str | None = None,
        user: str | None = None,
        times: int | None = None,
        seconds: float | None = None,
    ) -> contextlib.AbstractContextManager[Activation]:
        """A fault scenario (docs/scenarios.md) in force inside the `with` block, for one
        client id, one user (username or object id), the next `times` matching requests, or
        all of them; cleared on exit. Every worker process sees it at its next request::

            with mock.scenario("id_token.wrong_iss", client_id=CLIENT_ID, times=1):
                ...  # the next ID token for CLIENT_ID names another issuer
        """
        self._require_controls("scenario()")
        return switched_on(
            self.store,
            self.clock.now(),
            name,
            client_id=client_id,
            user=user,
            times=times,
            seconds=seconds,
        )

    def clear_scenarios(self) -> None:
        """Clear every scenario set at run time (the config file's stay in force)."""
        self._require_controls("clear_scenarios()")
        self.store.delete_scenarios()

    def set_access_token_lifetime(self, seconds: int | None) -> None:
        """Fix the lifetime of the access tokens issued from now on (None: as configured; 1 s to
        one day, else ValueError).
        Under 300 s, MSAL treats a token as expired and refreshes on the next silent call."""
        self._require_controls("set_access_token_lifetime()")
        fix_token_lifetime(self.store, seconds)
