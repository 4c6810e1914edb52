"""One module per `w2v` subcommand; each exposes `register(subparsers)`."""
