"""The app's thread workers each run in a thread that ends with the job, taking with it the
OpenMP pool torch made for that thread (see savi_tui.tui.job_threads)."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from tui_helpers import make_app

from savi_tui.tui.job_threads import ThreadPerJobExecutor


def os_threads() -> set[str]:
    """The ids of this process's OS threads (by id, not by count: other tests' threads may end meanwhile)."""
    return set(os.listdir("/proc/self/task"))


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_each_job_runs_in_a_new_thread_that_ends_with_it():
    executor = ThreadPerJobExecutor("job")
    first = executor.submit(threading.current_thread).result(timeout=5)
    second = executor.submit(threading.current_thread).result(timeout=5)
    assert first is not second
    assert first is not threading.current_thread()
    assert first.name.startswith("job_") and second.name.startswith("job_")
    assert wait_until(lambda: not first.is_alive() and not second.is_alive())
    executor.shutdown()


def test_arguments_results_and_errors_reach_the_caller():
    executor = ThreadPerJobExecutor()
    assert executor.submit(divmod, 17, 5).result(timeout=5) == (3, 2)
    with pytest.raises(ZeroDivisionError):
        executor.submit(divmod, 1, 0).result(timeout=5)
    executor.shutdown()


def test_shutdown_waits_for_running_jobs_and_refuses_new_ones():
    executor = ThreadPerJobExecutor()
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    executor.submit(slow)
    assert started.wait(5)
    executor.shutdown(wait=True)
    assert finished.is_set()
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(print)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_the_openmp_pool_a_job_made_ends_with_its_thread():
    torch = pytest.importorskip("torch")
    if torch.get_num_threads() < 2:
        pytest.skip("one torch thread: no OpenMP pool to make")
    before = os_threads()

    def parallel_op() -> int:
        torch.ones(1 << 22).sum()  # large enough for a parallel region: a pool for this thread
        return os_threads()

    executor = ThreadPerJobExecutor()
    made = executor.submit(parallel_op).result(timeout=30) - before
    assert len(made) >= 2, made  # the job's thread and at least one OpenMP worker
    assert wait_until(lambda: not made & os_threads()), f"{made & os_threads()} of the job's threads are left"
    executor.shutdown()


async def test_the_apps_thread_workers_end_with_their_jobs(tmp_path):
    app = make_app(tmp_path / "e")
    async with app.run_test() as pilot:
        worker = app.run_worker(threading.current_thread, thread=True)
        thread = await worker.wait()
        assert thread is not threading.current_thread()
        assert thread.name.startswith("worker_")
        await pilot.pause()
        assert wait_until(lambda: not thread.is_alive())
