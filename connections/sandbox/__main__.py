"""`python -m connections.sandbox --port 8100 --users 500 --seed 1` (no Django needed)."""

import argparse
import sys

from connections.sandbox.cli import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m connections.sandbox", description=__doc__)
    add_arguments(parser)
    return run(vars(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
