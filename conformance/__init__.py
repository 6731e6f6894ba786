"""conformance: Playwright + pytest suites that run unchanged against the local mock and a
real Entra tenant, with the pytest plugin, page objects, report and mock-vs-live diff."""
