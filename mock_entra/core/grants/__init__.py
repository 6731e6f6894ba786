"""The token endpoint: one dispatch table, client authentication and the grants."""
