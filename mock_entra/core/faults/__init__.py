"""Fault scenarios: Entra and Graph misbehaving on purpose, one test (or client) at a time.

Three modules, one job each:

- `hooks`: where the mock asks for a fault (`Hook`, an enum checked at import) and the
  scenario kinds, each the transform its hooks apply;
- `catalogue`: every scenario by name (`CATALOGUE`), with the event it simulates;
- `activation`: which are in force, for whom, for how long (`Activation`, `Faults`, the
  shared store's rows).

This package only re-exports them, for callers outside.
"""

from mock_entra.core.faults.activation import (
    MAX_SCOPE_LENGTH,
    MAX_TIMES,
    Activation,
    Faults,
    Match,
    add,
    from_settings,
    listing,
    switched_on,
)
from mock_entra.core.faults.catalogue import (
    CATALOGUE,
    SCENARIOS,
    ScenarioError,
    catalogue_rows,
    scenario,
)
from mock_entra.core.faults.hooks import (
    DEFAULT_DELAY,
    DEFAULT_GRACE,
    DEFAULT_RETRY_AFTER,
    FaultResponse,
    GraphFault,
    Hook,
    IdTokenFault,
    JwksFault,
    KeyRotation,
    RedirectFault,
    RequestFaults,
    Scenario,
    TokenBodyFault,
    TokenContext,
    TokenFault,
    delay_answer,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_DELAY",
    "DEFAULT_GRACE",
    "DEFAULT_RETRY_AFTER",
    "MAX_SCOPE_LENGTH",
    "MAX_TIMES",
    "SCENARIOS",
    "Activation",
    "FaultResponse",
    "Faults",
    "GraphFault",
    "Hook",
    "IdTokenFault",
    "JwksFault",
    "KeyRotation",
    "Match",
    "RedirectFault",
    "RequestFaults",
    "Scenario",
    "ScenarioError",
    "TokenBodyFault",
    "TokenContext",
    "TokenFault",
    "add",
    "catalogue_rows",
    "delay_answer",
    "from_settings",
    "listing",
    "scenario",
    "switched_on",
]
