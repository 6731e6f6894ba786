"""Where state lives between requests: the records of a sign-in and the SQLite store."""
