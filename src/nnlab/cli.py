"""Command line: ``nnlab demo [NAME]`` runs a demo experiment and prints its results."""

import argparse
import importlib

DEMOS = {
    "core": ("nnlab.experiments.core_mlp", "XOR and digits MLPs written with the core API alone"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nnlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a demo experiment")
    demo.add_argument(
        "name", nargs="?", choices=sorted(DEMOS), default=None, help="which demo (default: all)"
    )
    commands.add_parser("list", help="list the demos")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, (_, text) in DEMOS.items():
            print(f"{name:10s} {text}")
        return 0
    for name in [args.name] if args.name else list(DEMOS):
        print(f"== {name}: {DEMOS[name][1]}")
        importlib.import_module(DEMOS[name][0]).main()
    return 0
