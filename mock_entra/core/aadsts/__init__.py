"""The AADSTS catalogue: every Entra error the mock answers, as `Aadsts` entries (the
number, the OAuth `error`, the HTTP status, the message template).

Messages follow Microsoft Learn's error-code reference
(https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes) and real
answers quoted in public issues (cited below); codes users search for are the names here.
An entry is raised as an `errors.EntraError`.

One module per concern (`entry`: the entry itself; `endpoints`, `credentials`, `faults`: the
errors); this package re-exports them all, so callers import the codes from
`mock_entra.core.aadsts`.
"""

# A catalogue of constants: every public name of each module is the package's.
from mock_entra.core.aadsts.credentials import *  # noqa: F403
from mock_entra.core.aadsts.endpoints import *  # noqa: F403
from mock_entra.core.aadsts.entry import MAX_ECHO as MAX_ECHO
from mock_entra.core.aadsts.entry import Aadsts as Aadsts
from mock_entra.core.aadsts.faults import *  # noqa: F403
