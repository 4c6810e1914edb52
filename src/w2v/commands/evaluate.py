"""`w2v evaluate`: not implemented yet."""

from w2v.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="(not implemented yet)")
    parser.set_defaults(func=run)


def run(args) -> int:
    raise UserError("'w2v evaluate' is not implemented yet")
