"""The `kenar-tui` subcommands, one module each, registered by `kenar_tui.cli`."""
