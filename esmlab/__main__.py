from esmlab.cli import main

raise SystemExit(main())
