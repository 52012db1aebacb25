"""The app's thread workers each run in a thread of their own, which ends with the job.

torch's OpenMP runtime (libgomp) keeps a pool of worker threads for every thread that has
run a parallel op, for as long as that thread lives. asyncio's default executor keeps its
threads, so a thread that once showed a model summary or exported to ONNX kept its pool
beside the training thread's: more OpenMP threads than CPUs, and libgomp then stops its
workers spinning between ops (``gomp_throttled_spin_count_var``), and the training slows.
A thread that ends takes its pool with it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor


class ThreadPerJobExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` (what asyncio's ``set_default_executor`` accepts) whose every
    job gets a new thread that ends when the job does."""

    def __init__(self, name: str = "job") -> None:
        super().__init__(thread_name_prefix=name)
        self._name = name
        self._jobs = 0
        self._live: set[threading.Thread] = set()
        self._live_lock = threading.Lock()
        self._closed = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()

        def run() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as error:  # as ThreadPoolExecutor: the caller gets it
                        future.set_exception(error)
                    else:
                        future.set_result(result)
            finally:
                with self._live_lock:
                    self._live.discard(threading.current_thread())

        with self._live_lock:
            if self._closed:
                raise RuntimeError("cannot schedule new jobs after shutdown")
            self._jobs += 1
            thread = threading.Thread(target=run, name=f"{self._name}_{self._jobs}")
            self._live.add(thread)
        try:
            thread.start()
        except BaseException:  # no thread to be had: nothing will ever discard it
            with self._live_lock:
                self._live.discard(thread)
            raise
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._live_lock:
            self._closed = True
            live = list(self._live)
        if wait:
            for thread in live:
                thread.join()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
