"""``python -m benchmarks [--quick] [--repeat N] [--only CASE] [--plot FILE.png] [--against DIR]``

Runs every case, each contender in a fresh process, and prints one table:
the median of the repetitions per contender and the ratio of gatasker to
each peer, where a ratio above 1 always means gatasker did better (more
throughput, or less latency or memory).

``--against DIR`` also runs gatasker's own contenders from another build (a
checkout or ``git archive`` of an older commit in DIR), interleaved with this
build's runs, and prints this build against that one for every case, marking
a case more than 5 % worse.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field

import gatasker


@dataclass
class Case:
    name: str
    title: str
    size: int
    quick_size: int
    ours: list[str]
    peers: list[str]
    higher_is_better: bool = True
    target: str = ''
    needs: str = ''  # a gatasker attribute the case needs
    peer_sizes: dict[str, int] = field(default_factory=dict)
    #: For contenders that measure several things in one run: which one this case shows.
    metric: str = ''
    #: The metric a build from before the contenders measured several things
    #: reports as its one value (for --against an older build).
    single_value: bool = False
    results: dict[str, float | str] = field(default_factory=dict)
    unit: str = ''


CASES = [
    Case('thread', '10,000 no-op tasks, 25-slot thread tier, submit all then wait',
         10_000, 3_000, ['thread_gatasker'],
         ['thread_atasker', 'thread_gevent_threadpool', 'thread_executor'],
         target='>= 10x atasker, >= 0.7x ThreadPool'),
    Case('executor', '10,000 no-op submits to a concurrent.futures Executor, 25 threads, '
         'concurrent.futures.wait', 10_000, 3_000, ['executor_gatasker'],
         ['executor_threadpool'], target='>= 0.5x ThreadPoolExecutor', needs='Executor'),
    Case('greenlet', '50,000 no-op cooperative tasks, 1,000 slots, monkey-patched',
         50_000, 10_000, ['greenlet_gatasker_patched'], ['greenlet_gevent_pool_patched'],
         target='>= 1.0x gevent Pool'),
    Case('watchdog', 'the greenlet case with the hub watchdog on (10 ms threshold)',
         50_000, 10_000, ['greenlet_gatasker_watchdog_patched'], ['greenlet_gatasker_patched'],
         target='>= 0.99x without the watchdog', needs='HubStatistics'),
    Case('critical', 'CRITICAL start latency, 25 slots busy, 10,000 LOW queued',
         10_000, 2_000, ['critical_gatasker', 'critical_gatasker_greenlet_patched'],
         ['critical_atasker'], higher_is_better=False, target='p99 <= 1 ms'),
    Case('tell', '200,000 tell() then one ask() barrier', 200_000, 50_000,
         ['actor_tell_gatasker_patched', 'actor_tell_gatasker'],
         ['actor_tell_pykka', 'actor_tell_bare_gevent_patched'],
         target='>= 5x pykka, >= 0.5x bare gevent actor', needs='Actor'),
    Case('ask', 'ask() round trips', 20_000, 5_000,
         ['actor_ask_gatasker_patched', 'actor_ask_gatasker'],
         ['actor_ask_pykka', 'actor_ask_bare_gevent_patched'],
         target='>= 3x pykka', needs='Actor'),
    Case('queue', 'queue-worker items/s', 20_000, 5_000, ['queue_worker_gatasker'],
         ['queue_worker_atasker'], target='>= 100x atasker', needs='BackgroundQueueWorker',
         peer_sizes={'queue_worker_atasker': 2_000}),
    Case('memory', 'idle interval workers (100,000; peers 20,000 / 2,000)', 100_000, 20_000,
         ['idle_interval_workers_gatasker'],
         ['idle_greenlet_on_event_patched', 'idle_pykka_actors'], higher_is_better=False,
         target='<= 12 KiB each', needs='BackgroundIntervalWorker',
         peer_sizes={'idle_greenlet_on_event_patched': 20_000, 'idle_pykka_actors': 2_000}),
    Case('interval', '1,000 interval workers at 100 ms (seconds of running)', 10, 2,
         ['interval_gatasker_patched'], ['interval_atasker', 'interval_bare_gevent_patched'],
         higher_is_better=False, target='no drift, p99 lateness <= 5 ms',
         needs='BackgroundIntervalWorker', metric='interval_p99', single_value=True),
    Case('interval_cpu', 'the interval case: CPU time per run', 10, 2,
         ['interval_gatasker_patched'], ['interval_atasker', 'interval_bare_gevent_patched'],
         higher_is_better=False, needs='BackgroundIntervalWorker', metric='interval_cpu'),
    Case('aloop', 'aloop.run round trips from 100 greenlets, monkey-patched', 20_000, 5_000,
         ['aloop_gatasker_patched'], ['aloop_bare_bridge_patched'],
         target='>= 0.8x bare run_coroutine_threadsafe bridge', needs='ALoop'),
    Case('process', '2,000 small CPU tasks (~100 us each), 2 worker processes', 2_000, 1_000,
         ['process_gatasker', 'process_gatasker_patched'], ['process_executor', 'process_dask'],
         target='>= 0.8x ProcessPoolExecutor', needs='WorkerProcessDied'),
    Case('mp_first', 'the first TT_MP task, 1 s after the pool was created (ms)', 1000, 1000,
         ['mp_first_task_gatasker'], ['mp_first_task_executor'], higher_is_better=False,
         target='<= 5 ms', needs='WorkerProcessDied'),
    Case('heartbeat', '10 ms heartbeat greenlet, 2,000 x 100 KB + 40 x 1 MiB process tasks, '
         'patched', 2_000, 500, ['process_heartbeat_gatasker_patched'], [],
         higher_is_better=False, target='worst gap <= 50 ms', needs='WorkerProcessDied'),
    Case('scale_actor_memory', 'idle actors (100,000; pykka 2,000): memory each',
         100_000, 10_000, ['scale_actors_gatasker_patched'],
         ['scale_actors_bare_gevent_patched', 'scale_actors_pykka'], higher_is_better=False,
         needs='Actor', metric='actor_memory', peer_sizes={'scale_actors_pykka': 2_000}),
    Case('scale_actor_rate', '100,000 actors (pykka 2,000) told 10 messages each',
         100_000, 10_000, ['scale_actors_gatasker_patched'],
         ['scale_actors_bare_gevent_patched', 'scale_actors_pykka'], needs='Actor',
         metric='actor_rate', peer_sizes={'scale_actors_pykka': 2_000}),
    Case('scale_actor_spawn', '100,000 actors (pykka 2,000) spawned', 100_000, 10_000,
         ['scale_actors_gatasker_patched'],
         ['scale_actors_bare_gevent_patched', 'scale_actors_pykka'], needs='Actor',
         metric='actor_spawn', peer_sizes={'scale_actors_pykka': 2_000}),
    Case('scale_queue_memory', '1,000,000 LOW tasks queued behind 25 busy slots: memory each',
         1_000_000, 100_000, ['scale_queue_gatasker_patched', 'scale_queue_gatasker'],
         ['scale_queue_bare_gevent_patched'], higher_is_better=False, metric='queue_memory'),
    Case('scale_queue_critical', 'CRITICAL start latency behind 1,000,000 queued LOW tasks',
         1_000_000, 100_000, ['scale_queue_gatasker_patched', 'scale_queue_gatasker'],
         ['scale_queue_bare_gevent_patched'], higher_is_better=False, target='p99 <= 1 ms',
         metric='queue_critical'),
    Case('scale_queue_drain', 'draining 1,000,000 queued LOW tasks through 25 slots',
         1_000_000, 100_000, ['scale_queue_gatasker_patched', 'scale_queue_gatasker'],
         ['scale_queue_bare_gevent_patched'], metric='queue_drain'),
    Case('web_rate', 'pywsgi app, a task queued per request, 32 connections: requests/s',
         20_000, 3_000, ['web_gatasker_patched'],
         ['web_bare_gevent_patched'], metric='web_rate'),
    Case('web_p99', 'pywsgi app, a task queued per request, 32 connections: latency',
         20_000, 3_000, ['web_gatasker_patched'],
         ['web_bare_gevent_patched'], higher_is_better=False, metric='web_p99'),
    Case('dask_heartbeat', '10 ms heartbeat greenlet, 200 tasks through DaskExecutor, patched',
         2_000, 500, ['dask_heartbeat_patched'], [], higher_is_better=False,
         target='worst gap <= 50 ms'),
]


#: Child results by (contender, size, build): cases that show other metrics of one
#: run share it. The build is '' for this checkout, else the directory of --against.
_runs: dict[tuple[str, int, str], list[dict[str, object]]] = {}

#: How much worse than the --against build a case may be before it is marked.
REGRESSION = 0.05


def run_contender(name: str, size: int, timeout: float,
                  build: str = '') -> dict[str, object] | str:
    """Run one contender in a fresh process, from this checkout or from *build*."""
    root = build or os.getcwd()
    others = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
              if p and os.path.abspath(p) != os.path.abspath(os.getcwd())]
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([root, *others])}
    try:
        proc = subprocess.run([sys.executable, '-m', 'benchmarks.child', name, str(size)],
                              capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=root)
    except subprocess.TimeoutExpired:
        return 'timed out'
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ['failed'])[-1]
        return f'failed: {last[:60]}'
    data: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def measure(case: Case, contender: str, size: int, index: int,
            build: str = '') -> tuple[float | str, str]:
    """The *index*-th run of *contender* at *size*, run now or shared with an earlier case."""
    runs = _runs.setdefault((contender, size, build), [])
    if index >= len(runs):
        data = run_contender(contender, size, timeout=600, build=build)
        if isinstance(data, str):
            return data, ''
        runs.append(data)
    data = runs[index]
    if case.metric and 'metrics' in data:
        value, unit = data['metrics'][case.metric]  # type: ignore[index]
    elif case.metric and not case.single_value:
        return 'not measured by that build', ''
    else:
        value, unit = data['value'], data['unit']
    return float(value), str(unit)


def run_case(case: Case, repeat: int, quick: bool, against: str = '') -> None:
    size = case.quick_size if quick else case.size
    if case.needs and not hasattr(gatasker, case.needs):
        case.results = {case.name: f'not available yet (no gatasker.{case.needs})'}
        return
    for contender in case.ours + case.peers:
        n = case.peer_sizes.get(contender, size)
        if quick and contender in case.peer_sizes:
            n = max(1, n // 5)
        # Against another build, its runs interleave with ours, so both see the same machine.
        builds = ['', against] if against and contender in case.ours else ['']
        values: dict[str, list[float]] = {build: [] for build in builds}
        failed: dict[str, str] = {}
        for index in range(repeat):
            for build in builds:
                if build in failed:
                    continue
                value, unit = measure(case, contender, n, index, build)
                if isinstance(value, str):
                    failed[build] = value
                    continue
                values[build].append(value)
                case.unit = unit
        for build in builds:
            key = contender if not build else contender + BEFORE
            case.results[key] = failed.get(build) or statistics.median(values[build])


#: The suffix --against gives the other build's results.
BEFORE = '@against'


def ratio(case: Case, ours: float | str, peer: float | str) -> str:
    if isinstance(ours, str) or isinstance(peer, str) or not ours or not peer:
        return '-'
    return f'{(ours / peer) if case.higher_is_better else (peer / ours):.2f}x'


def fmt(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return f'{value:,.0f}' if value >= 100 else f'{value:.3f}'


def print_table(cases: list[Case]) -> None:
    print(f'\n{"case":10} {"contender":38} {"median":>14}  unit      gatasker/peer')
    for case in cases:
        print(f'-- {case.title}   [target: {case.target}]')
        if case.name in case.results:
            print(f'{case.name:10} {case.results[case.name]}')
            continue
        for contender in case.ours + case.peers:
            value = case.results.get(contender, 'not run')
            line = f'{case.name:10} {contender:38} {fmt(value):>14}  {case.unit:9}'
            if contender in case.peers:
                line += '  ' + ', '.join(ratio(case, case.results.get(o, '-'), value)
                                         for o in case.ours)
            print(line)


def print_against(cases: list[Case], against: str) -> None:
    """This build against the --against build, per case; mark cases more than 5 % worse."""
    print(f'\nthis build against {against} (above 1 = this build better; '
          f'! = more than {REGRESSION:.0%} worse)')
    for case in cases:
        for contender in case.ours:
            now, then = case.results.get(contender, '-'), case.results.get(contender + BEFORE, '-')
            text = ratio(case, now, then)
            mark = ''
            if text != '-' and float(text.rstrip('x')) < 1 - REGRESSION:
                mark = '  !'
            print(f'{case.name:20} {contender:38} {fmt(now):>14} {fmt(then):>14}  {text}{mark}')


def plot(cases: list[Case], path: str) -> None:
    try:
        import matplotlib
    except ImportError:
        print('--plot needs matplotlib: pip install -r benchmarks/requirements.txt')
        return
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    columns = 2 if len(cases) > 4 else 1
    rows = -(-len(cases) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(8 * columns, 2.2 * rows), squeeze=False)
    for ax in axes.flat[len(cases):]:
        ax.set_visible(False)
    for ax, case in zip(list(axes.flat)[:len(cases)], cases, strict=True):
        names = [c for c in case.ours + case.peers if isinstance(case.results.get(c), float)]
        if not names:  # every contender failed or is not available: say so
            ax.text(0.5, 0.5, 'no result', ha='center', va='center', transform=ax.transAxes)
        ax.barh(names, [case.results[c] for c in names],
                color=['tab:green' if c in case.ours else 'tab:gray' for c in names])
        better = 'higher' if case.higher_is_better else 'lower'
        ax.set_title(f'{case.title} ({case.unit}, {better} is better)', fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f'plot written to {path}')


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m benchmarks', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='small sizes, one repetition')
    parser.add_argument('--repeat', type=int, default=3, help='repetitions (median)')
    parser.add_argument('--only', action='append', help='run only this case (repeatable)')
    parser.add_argument('--plot', metavar='FILE.png', help='draw the table as a bar chart')
    parser.add_argument('--against', metavar='DIR',
                        help="also run gatasker's contenders from the build in DIR, interleaved")
    args = parser.parse_args()
    against = os.path.abspath(args.against) if args.against else ''
    repeat = 1 if args.quick else args.repeat
    cases = [c for c in CASES if not args.only or c.name in args.only]
    for case in cases:
        print(f'running {case.name} ...', flush=True)
        run_case(case, repeat, args.quick, against)
    print_table(cases)
    if against:
        print_against(cases, against)
    if args.plot:
        plot(cases, args.plot)


if __name__ == '__main__':
    main()
