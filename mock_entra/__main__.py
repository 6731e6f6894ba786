from mock_entra.cli import main

raise SystemExit(main())
