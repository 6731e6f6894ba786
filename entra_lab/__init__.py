"""entra_lab: `entra-lab demo` starts the mock Entra ID and the client app, wired together.

The launcher imports `mock_entra`'s public API (config, state, `info`) to compute the wiring,
and starts both services as processes; it never imports `client_app`, which it runs exactly as
a deployment would: configured by environment variables only.
"""
