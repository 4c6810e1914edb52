"""`w2v clean`: not implemented yet."""

from w2v.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("clean", help="(not implemented yet)")
    parser.set_defaults(func=run)


def run(args) -> int:
    raise UserError("'w2v clean' is not implemented yet")
