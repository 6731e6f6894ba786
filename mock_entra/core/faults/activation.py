"""Fault activations: which scenarios are in force, for whom, and for how long.

Scenarios are switched on by an `Activation`: for one client id, one user (username or
object id), the next N matching requests, or until cleared. Run-time activations live in the
shared SQLite store, so every worker process and the test process agree; each request reads
one version value and a process reloads its copy only when it changed. Activations from the
config file (`[[scenarios]]`) are fixed at start. `Faults.find(hook, ...)` is what a hook
(`hooks.Hook`) asks.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from mock_entra.core.config import ConfigError, MockConfig, ScenarioSetting, TestUser
from mock_entra.core.faults.catalogue import SCENARIOS, ScenarioError, scenario
from mock_entra.core.faults.hooks import (
    REQUEST,
    Hook,
    RequestFaults,
    Scenario,
    TokenFault,
    checked_hook,
)
from mock_entra.core.store.backend import StoreBackend

# Bounds on an activation: SQLite keeps `times` as a 64-bit integer (2**63 was a 500), and a
# test counts requests in thousands; a client id is a GUID and a UPN at most 113 characters
# (Learn, "userPrincipalName" on the user resource), so 256 leaves room without letting one
# scenario carry a megabyte into the store.
MAX_TIMES = 1_000_000
MAX_SCOPE_LENGTH = 256


@dataclass(frozen=True, kw_only=True)
class Activation:
    """A scenario switched on, and for whom: a client id, a user (username or object id),
    the next `times` matching requests; `seconds` tunes it (Retry-After, the delay, the
    rotation's grace period)."""

    name: str
    client_id: str | None = None
    user: str | None = None
    times: int | None = None
    seconds: float | None = None
    started: float = 0.0  # the mock's clock when it was switched on
    id: int | None = None  # the store's row; None for a config-file activation

    def __post_init__(self) -> None:
        found = scenario(self.name)
        if (self.client_id or self.user) and not found.scopable:
            raise ScenarioError(
                f"{self.name} applies to every client (the JWKS request names none): "
                "leave client_id and user out"
            )
        if self.times is not None and (
            isinstance(self.times, bool) or not 1 <= self.times <= MAX_TIMES
        ):
            raise ScenarioError(f"times: expected 1 to {MAX_TIMES}, or leave it out")
        for name in ("client_id", "user"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_SCOPE_LENGTH:
                raise ScenarioError(f"{name}: longer than {MAX_SCOPE_LENGTH} characters")
        if self.seconds is not None and not 0 <= self.seconds <= 7 * 86400:
            raise ScenarioError("seconds: expected 0 to 604800")

    @property
    def scenario(self) -> Scenario:
        return SCENARIOS[self.name]

    def matches(self, client_id: str | None, user: TestUser | None) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        if self.user is not None:
            wanted = self.user.lower()
            if user is None or wanted not in (user.username.lower(), user.object_id.lower()):
                return False
        return True

    def to_json(self) -> str:
        data = {
            "name": self.name,
            "client_id": self.client_id,
            "user": self.user,
            "times": self.times,
            "seconds": self.seconds,
            "started": self.started,
        }
        return json.dumps(data, separators=(",", ":"))

    def describe(self, remaining: int | None = None) -> dict[str, Any]:
        """The admin API's view of it."""
        data = json.loads(self.to_json())
        data.update(id=self.id, remaining=remaining, description=self.scenario.description)
        return data

    @classmethod
    def from_json(cls, text: str, row_id: int) -> Activation | None:
        try:
            data = json.loads(text)
            return cls(**{k: data.get(k) for k in _FIELDS}, id=row_id)
        except (ValueError, TypeError):
            return None  # written by another version: ignored, never a 500


_FIELDS = ("name", "client_id", "user", "times", "seconds", "started")


def from_settings(settings: tuple[ScenarioSetting, ...], now: float) -> tuple[Activation, ...]:
    """The config file's `[[scenarios]]`, checked (a `ConfigError` naming the entry)."""
    out = []
    for i, s in enumerate(settings):
        try:
            out.append(
                Activation(
                    name=s.name,
                    client_id=s.client_id,
                    user=s.user,
                    times=s.times,
                    seconds=s.seconds,
                    started=now,
                )
            )
        except ScenarioError as error:
            raise ConfigError(f"scenarios[{i}]: {error}") from None
    return tuple(out)


@dataclass(frozen=True)
class Match:
    scenario: Any  # the Scenario subclass the hook asked for
    activation: Activation


@dataclass
class Faults:
    """The scenarios one mock honours: fixed ones from its config and, when `live` (its test
    controls are on), the shared store's, cached per process by version."""

    store: StoreBackend
    fixed: tuple[Activation, ...] = ()
    live: bool = False
    _version: str | None = field(default="(never read)", repr=False)
    _cached: tuple[Activation, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self._cached = self.fixed

    @classmethod
    def for_config(
        cls, config: MockConfig, store: StoreBackend, now: float, *, live: bool
    ) -> Faults:
        return cls(store, from_settings(config.scenarios, now), live)

    def current(self) -> tuple[Activation, ...]:
        """Every activation in force: the request's snapshot when one was taken."""
        taken = REQUEST.get()
        if taken is not None and taken.faults is self:
            return taken.activations
        return self._load()

    def _load(self) -> tuple[Activation, ...]:
        if not self.live:
            return self.fixed
        version = self.store.scenario_version()
        if version != self._version:
            rows = self.store.scenarios()
            live = (Activation.from_json(text, row_id) for row_id, text, _ in rows)
            self._cached = self.fixed + tuple(a for a in live if a is not None)
            self._version = version
        return self._cached

    @contextlib.contextmanager
    def request(self) -> Iterator[RequestFaults]:
        """Read the store once for the whole request (`web.front` wraps each request); what
        the request's scenarios asked of its answer is on the object yielded."""
        taken = RequestFaults(self, self._load())
        token = REQUEST.set(taken)
        try:
            yield taken
        finally:
            REQUEST.reset(token)

    def find(
        self,
        hook: Hook,
        *,
        client_id: str | None = None,
        user: TestUser | None = None,
        grant_type: str | None = None,
        kind: type[Scenario] = Scenario,
    ) -> Match | None:
        """The first activation in force for this hook and caller (of this `kind`); a
        counted one is used up by the request that finds it (atomically: of two racing
        requests, one gets it)."""
        checked_hook(hook)
        for activation in self.current():
            found = activation.scenario
            if hook not in found.hooks or not isinstance(found, kind):
                continue
            if not activation.matches(client_id, user):
                continue
            if isinstance(found, TokenFault) and not found.applies(grant_type):
                continue
            counted = activation.times is not None and activation.id is not None
            if counted and not self.store.take_scenario(activation.id):  # type: ignore[arg-type]
                continue
            return Match(found, activation)
        return None

    def any(self, hook: Hook) -> bool:
        """Whether some activation uses this hook (cheap: no store write)."""
        checked_hook(hook)
        return any(hook in a.scenario.hooks for a in self.current())

    def listing(self) -> list[dict[str, Any]]:
        """The config's activations, then the run-time ones (the admin API's GET)."""
        return [a.describe() | {"source": "config"} for a in self.fixed] + listing(self.store)


# -- setting them (the admin API, `MockEntra.scenario`, the interceptor) -----------------------


def add(store: StoreBackend, activation: Activation) -> Activation:
    """Switch a scenario on for every process sharing `store`; returns it with its id
    (`ScenarioError` when the store holds `Limits.max_scenarios` already)."""
    row = store.add_scenario(activation.to_json(), activation.times)
    if row is None:
        raise ScenarioError(
            f"{store.limits.max_scenarios} scenarios are already set; clear some first"
        )
    return replace(activation, id=row)


def listing(store: StoreBackend) -> list[dict[str, Any]]:
    rows = []
    for row_id, text, remaining in store.scenarios():
        found = Activation.from_json(text, row_id)
        if found is not None:
            rows.append(found.describe(remaining) | {"source": "runtime"})
    return rows


@contextlib.contextmanager
def switched_on(
    store: StoreBackend,
    now: float,
    name: str,
    *,
    client_id: str | None = None,
    user: str | None = None,
    times: int | None = None,
    seconds: float | None = None,
) -> Iterator[Activation]:
    """A scenario in force for the `with` block, then cleared (even when the block fails)."""
    activation = add(
        store,
        Activation(
            name=name, client_id=client_id, user=user, times=times, seconds=seconds, started=now
        ),
    )
    try:
        yield activation
    finally:
        assert activation.id is not None
        store.delete_scenarios(activation.id)
