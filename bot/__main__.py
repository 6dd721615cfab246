"""`python -m bot` runs the same command line as the `missionbot` script."""

from bot.cli import main

raise SystemExit(main())
