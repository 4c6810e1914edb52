"""`w2v train`: not implemented yet."""

from w2v.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="(not implemented yet)")
    parser.set_defaults(func=run)


def run(args) -> int:
    raise UserError("'w2v train' is not implemented yet")
