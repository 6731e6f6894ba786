"""`python -m entra_lab ...` is `entra-lab ...`."""

from entra_lab.cli import main

raise SystemExit(main())
