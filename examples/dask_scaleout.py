"""Scale the process tier out to a dask cluster: TT_MP tasks run on dask workers.

Starts a throwaway cluster on 127.0.0.1 (one scheduler and two workers, each
its own process, as you would run them on real machines), plugs a
DaskExecutor into a supervisor, queues a batch of LOW tasks and then a few
urgent ones, and prints where and in which order they finished. An urgent
task overtakes the LOW ones still queued on the cluster. Needs the extra:
``pip install 'gatasker[dask]'``.

Against a real cluster, drop start_cluster() and pass the scheduler's
address: ``DaskExecutor(address='tcp://10.0.0.5:8786')``.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

try:
    import distributed  # noqa: F401
except ImportError:
    print("this example needs dask.distributed: pip install 'gatasker[dask]'")
    sys.exit(0)

import gatasker
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TT_MP
from gatasker.contrib.dask import DaskExecutor


def crunch(label, seconds, **_):
    """CPU work on a dask worker. Defined in this script, so it travels by value (cloudpickle)."""
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass
    return label, os.getpid()


def start_cluster(workdir):
    """A scheduler and two one-thread workers as subprocesses; return (address, processes)."""
    scheduler = subprocess.Popen(
        [sys.executable, '-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1',
         '--port', '0', '--dashboard-address', '127.0.0.1:0'],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    address = None
    for line in scheduler.stderr:  # the scheduler logs where it listens
        if 'Scheduler at:' in line:
            address = line.split()[-1]
            break
    if address is None:
        raise RuntimeError('the dask scheduler did not start')
    # Keep reading its log, so that a full pipe never stalls it.
    threading.Thread(target=scheduler.stderr.read, daemon=True).start()
    workers = [subprocess.Popen(
        [sys.executable, '-m', 'distributed.cli.dask_worker', address, '--nworkers', '1',
         '--nthreads', '1', '--host', '127.0.0.1', '--no-dashboard',
         '--local-directory', workdir],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True) for _ in range(2)]
    return address, [scheduler, *workers]


def stop_cluster(processes):
    """Workers first, so that they can say goodbye to the scheduler."""
    scheduler, *workers = processes
    for group in (workers, [scheduler]):
        for proc in group:
            proc.terminate()
        for proc in group:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main():
    finished = []
    with tempfile.TemporaryDirectory() as workdir:
        address, processes = start_cluster(workdir)
        try:
            executor = DaskExecutor(address)
            sup = gatasker.TaskSupervisor()
            # pool_size=0: gatasker hands every task to dask at once, and dask orders them.
            sup.set_mp_pool(executor=executor, pool_size=0)
            with sup:
                batch = [sup.put_task(crunch, (f'low-{i}', 0.1), tt=TT_MP, priority=TASK_LOW,
                                      callback=finished.append) for i in range(10)]
                urgent = [sup.put_task(crunch, (label, 0.1), tt=TT_MP, priority=priority,
                                       callback=finished.append)
                          for label, priority in (('high-0', TASK_HIGH), ('high-1', TASK_HIGH),
                                                  ('critical', TASK_CRITICAL))]
                gatasker.wait_completed([*batch, *urgent], timeout=60)
            executor.shutdown()
        finally:
            stop_cluster(processes)

    for label, pid in finished:
        print(f'{label:>8} ran on the dask worker with pid {pid}')
    print('finished in this order:', ' '.join(label for label, _ in finished))
    assert sorted(label for label, _ in finished) == sorted(
        [f'low-{i}' for i in range(10)] + ['high-0', 'high-1', 'critical'])
    assert len({pid for _, pid in finished}) >= 1


if __name__ == '__main__':
    main()
