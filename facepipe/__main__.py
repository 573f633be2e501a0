"""`python -m facepipe` / `facepipe`: the Hydra job by default, plus the plain command family.

facepipe [overrides...]                 run a job (Hydra; see --help)
facepipe models list|fetch|verify ...   manage the model registry
facepipe stage NAME ...                 one DVC stage, configured by params.yaml
facepipe params [overrides...]          compose conf/ into params.yaml (as `dvc exp run` does)
facepipe evaluate NAME ...              an evaluation (sr)
facepipe bench NAME ...                 a benchmark (benchmarks/NAME.py in a source checkout)
"""

from __future__ import annotations

import sys

__all__ = ["main", "COMMANDS"]

COMMANDS = ("models", "stage", "params", "evaluate", "bench")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        from facepipe.commands import main as commands_main

        sys.exit(commands_main(sys.argv[1:]))
    from facepipe.cli import check_group_choices, free_keys
    from facepipe.cli import main as hydra_main
    from facepipe.errors import ConfigError

    try:
        check_group_choices(sys.argv[1:])
    except ConfigError as e:
        print(f"facepipe: error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.argv[1:] = free_keys(sys.argv[1:])
    hydra_main()


if __name__ == "__main__":
    main()
