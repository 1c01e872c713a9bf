"""Thread counts for numerical libraries.

The per-user stage makes many small matrix products (a user's items against a few centroids, a
name's vector against every journey). OpenBLAS splits even those over its threads, and on a
busy machine each call then waits for a thread that is not scheduled: a 2,616 x 384 product took
20 ms at load average 9 with 2 threads against 0.3 ms with one. So the per-user stage runs with
one BLAS thread (and uses more cores through the executor's worker processes instead); the
global fit and the embedder keep theirs."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def blas_threads(n: int = 1):
    """Limit BLAS (OpenBLAS, MKL) to `n` threads in this process while the block runs."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield
