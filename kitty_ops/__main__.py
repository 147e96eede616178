from kitty_ops.cli import main

raise SystemExit(main())
