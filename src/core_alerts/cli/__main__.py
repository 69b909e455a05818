"""`python -m core_alerts.cli` runs the command line."""

from core_alerts.cli.main import run

run()
