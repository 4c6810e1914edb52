"""`w2v segment`: not implemented yet."""

from w2v.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("segment", help="(not implemented yet)")
    parser.set_defaults(func=run)


def run(args) -> int:
    raise UserError("'w2v segment' is not implemented yet")
