"""Run every tests/bench/bench_*.py module's main() and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import tests.bench


def main() -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(tests.bench.__path__) if m.name.startswith("bench_")
    )
    wanted = set(sys.argv[1:])
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(f"tests.bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
