"""``python -m gatasker``: the demo tour (the default), ``inspect``, ``--help``, ``--version``.

``python -m gatasker [demo] [--patched]`` runs the tour, monkey-patched
(embedded mode) with ``--patched``. ``python -m gatasker inspect ADDRESS``
shows a live view of a process that called ``supervisor.serve_inspect``.
"""

from __future__ import annotations

import sys

if __name__ == '__main__' and '--patched' in sys.argv:
    # Before anything else imports the modules patch_all() replaces.
    from gevent import monkey

    monkey.patch_all()

import argparse
import time
from collections.abc import Sequence
from typing import TextIO

import gatasker
from gatasker import _demo, _inspect

CLEAR = '\x1b[H\x1b[2J'


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m gatasker',
        description='gatasker: actor-style tasks and workers on gevent greenlets. '
                    'Without a command, runs the demo.')
    parser.add_argument('--version', action='version', version=f'gatasker {gatasker.__version__}')
    parser.add_argument('--patched', action='store_true',
                        help='run the demo monkey-patched (embedded mode)')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    demo = commands.add_parser('demo', help='a short tour that prints what ran where (default)')
    demo.add_argument('--patched', action='store_true',
                      help='run monkey-patched (embedded mode)')
    inspect = commands.add_parser(
        'inspect', help="a live view of a running process's supervisors",
        description="A live view, refreshed like top, of a process that called "
                    "supervisor.serve_inspect(ADDRESS): supervisors, tiers per priority, "
                    "actors, workers and hub lag. Ctrl-C ends it.")
    inspect.add_argument('address', help="'127.0.0.1:PORT' or the path of a unix socket")
    inspect.add_argument('-n', '--interval', type=float, default=1.0,
                         help='seconds between refreshes (default 1)')
    inspect.add_argument('--count', type=int, default=None,
                         help='stop after this many views (default: until Ctrl-C)')
    inspect.add_argument('--once', action='store_true', help='print one view and exit')
    return parser


def inspect_loop(address: str, interval: float, count: int | None, out: TextIO) -> int:
    """Print views of the endpoint at *address* until *count* views or Ctrl-C.

    Returns the exit status: 1 when the first connection fails. Blocks.
    """
    clear = out.isatty()
    shown = 0
    while count is None or shown < count:
        try:
            view = _inspect.render(_inspect.fetch(address))
        except (OSError, ValueError) as exc:
            if not shown:
                print(f'gatasker inspect: cannot read {address}: {exc}', file=sys.stderr)
                return 1
            view = f'gatasker inspect: {address}: {exc} (retrying)'
        shown += 1
        out.write((CLEAR if clear else ('\n' if shown > 1 else '')) + view + '\n')
        out.flush()
        if count is None or shown < count:
            time.sleep(interval)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == 'inspect':
        if args.interval <= 0:
            _parser().error('--interval must be positive')
        if args.count is not None and args.count < 1:
            _parser().error('--count must be at least 1')
        try:
            return inspect_loop(args.address, args.interval, 1 if args.once else args.count,
                                sys.stdout)
        except KeyboardInterrupt:
            return 0
    _demo.main()
    return 0


if __name__ == '__main__':
    sys.exit(main())
