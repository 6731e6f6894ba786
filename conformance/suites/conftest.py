"""Activates the conformance plugin for the suites, and only for them.

`conformance.plugin` (`--target`, the target fixtures) is not a global `pytest11` plugin: it
is asked for here, so installing entra-lab never changes another project's pytest run. The
browser fixtures are imported into this conftest, so they apply to the tests in this folder
only: next to pytest-playwright, its `page`, `browser` and `context` stay what they are
elsewhere, and the suites reuse its `--headed`, `--slowmo`, `--tracing`, `--output` and
`--browser-channel` options (`conformance.plugin` declares them only when it is absent).
`pytest path/to/suites` works without `-p conformance.plugin`; give options in their
`--name=value` form then, since they are known only once this conftest is loaded.
"""

from conformance.browser_fixtures import (
    artifacts_dir,
    browser,
    browser_context_args,
    context,
    new_context,
    page,
    playwright,
    pytest_runtest_makereport,
    signed_in_page,
    signed_in_states,
    sso_page,
)

pytest_plugins = ["conformance.plugin"]

__all__ = [
    "artifacts_dir",
    "browser",
    "browser_context_args",
    "context",
    "new_context",
    "page",
    "playwright",
    "pytest_runtest_makereport",
    "signed_in_page",
    "signed_in_states",
    "sso_page",
]
