"""The pool Bolt runs listeners on, counting the work in flight so it can be waited out.

Bolt runs each listener on this pool and answers Slack once it has acked; whatever the
listener does after its ack (a reaction's kudos, a report drawn, an error reported to the
person) still runs here. Three waiters need to know when that work is done:

* `serve`, stopping: the listeners finish before the database closes under them, and the
  process exits once they have (a listener left running held a SIGTERMed process past its
  stop, and interpreter exit waits for the pool's threads anyway);
* the console, which shows a command's follow-ups before the next prompt;
* the tests, which deliver the outbox after a request's listeners are done and must not let
  one test's listener run on into the next (its log lines landed in another test's output).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class ListenerPool(Executor):
    """Bolt's listener executor, counting the work in flight so it can be waited out."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._busy = 0
        self._lock = threading.Condition()

    @classmethod
    def of_threads(cls, threads: int) -> ListenerPool:
        return cls(ThreadPoolExecutor(threads, thread_name_prefix="listener"))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self._busy += 1
        try:
            future = self._inner.submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any] | None) -> None:
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()

    def busy(self) -> int:
        with self._lock:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is queued or running; False if `timeout` seconds passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._busy == 0, timeout=max(timeout, 0))

    def finish(self, timeout: float) -> bool:
        """Stop taking work and let what was submitted finish, for at most `timeout` seconds.

        What was submitted was acknowledged to Slack already (Slack won't send it again), so
        it is waited for rather than cancelled; a listener still running after `timeout` is
        logged, and the caller goes on closing."""
        finished = self.wait_idle(timeout)
        if not finished:
            log.warning("stopping with %d listener(s) still running", self.busy())
        self._inner.shutdown(wait=False)
        return finished

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)
