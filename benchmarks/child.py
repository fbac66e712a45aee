"""Runs one contender in this (fresh) process and prints its result as JSON."""

from __future__ import annotations

import sys

if __name__ == '__main__':
    name, size = sys.argv[1], int(sys.argv[2])
    if name.endswith('_patched'):
        from gevent import monkey

        monkey.patch_all()
    import json

    from benchmarks import contenders, scale, web

    module = next(m for m in (contenders, scale, web) if hasattr(m, name))
    result = getattr(module, name)(size)
    if isinstance(result, dict):  # several metrics of one (expensive) run
        print(json.dumps({'metrics': result}), flush=True)
    else:
        value, unit = result
        print(json.dumps({'value': value, 'unit': unit}), flush=True)
    # Some peers (atasker) hang in interpreter shutdown; the result is out.
    import os

    os._exit(0)
