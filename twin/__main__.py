"""``python -m twin`` runs the command-line interface."""

from twin.cli.main import main

raise SystemExit(main())
