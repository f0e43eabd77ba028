"""Where and how the trainer runs for the window, and how a process is set up.

``runner`` (the Runner's loop; every name below importable from it), ``messages`` (commands and snapshots),
``snapshots`` (how a snapshot is made), ``channel`` (the thread's channel), ``inside_delta`` (the
distributions' history as deltas), ``runner_process`` (the trainer in a process of its own), ``resources``
(will a config fit in memory), ``setup`` (BLAS threads and the allocator, called by the entry points).
"""
