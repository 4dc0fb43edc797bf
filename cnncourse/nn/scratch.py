"""Reused working memory for the conv kernels, so large temporaries cost no page faults.

Building one im2col matrix for a whole batch made
:func:`cnncourse.nn.functional.conv2d_forward` touch a fresh buffer of 50 to 115 MB on
every call of the benchmark shapes. Linux maps buffers that large anew on each
allocation, and the page faults of touching them cost about as much as the copy into
them. The kernels now work through a batch in chunks of output rows whose temporaries
(:data:`CHUNK_BYTES` or so each) live in buffers kept per thread and reused by every call.
"""

from __future__ import annotations

import threading

import numpy as np

# A chunk's im2col rows take about this many bytes: large enough for efficient matrix
# products, small enough that the buffers kept per thread stay modest.
CHUNK_BYTES = 8 << 20

# A whole batch whose im2col matrix takes at most this many bytes is one block: the
# forward pass copies it into an array of its own and keeps it for the backward pass,
# which then skips rebuilding it. (At this size the allocator reuses freed memory, so
# the fresh array costs no page faults; above 32 MB glibc maps every one anew.)
KEEP_BYTES = 16 << 20

_local = threading.local()


def buffer(name: str, shape, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` that this thread reuses.

    Its contents are whatever the last user left. Each name is a distinct buffer; a
    buffer grows when a larger one is asked for and is never shrunk. Never hand it (or a
    view of it) to a caller: the thread's next call with the same name overwrites it.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get(name)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 1), dtype=np.uint8)
        buffers[name] = buf
    return buf[:nbytes].view(dtype).reshape(shape)
