"""The `darkroom` management command's subcommands, one module each; they parse and print,
and leave every read to the selectors and every change to the services."""
