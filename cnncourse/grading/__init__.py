"""Exercises and grading: one instructor source, learner notebooks, checks, auto-grader.

- :mod:`~cnncourse.grading.checks`: instant checks learners call in test cells, built on
  :mod:`~cnncourse.grading.checking` (assertions, cases, generic checks, points)
- :mod:`~cnncourse.grading.notebook_format`: nbgrader cell metadata, markers, validation
- :mod:`~cnncourse.grading.release`: ``solutions/`` -> ``exercises/``
- :mod:`~cnncourse.grading.assemble`: which cells run when a submission is graded
- :mod:`~cnncourse.grading.runner`: running them in a fresh kernel within time limits;
  :mod:`~cnncourse.grading.kernel_side`: the code run in that kernel between the cells,
  sent by :mod:`~cnncourse.grading.injected`
- :mod:`~cnncourse.grading.sandbox`: bubblewrap and prlimit around each grading kernel
- :mod:`~cnncourse.grading.grade`: scoring one submission
- :mod:`~cnncourse.grading.submissions`, :mod:`~cnncourse.grading.batch`,
  :mod:`~cnncourse.grading.worker`: finding and grading many in parallel
- :mod:`~cnncourse.grading.report`: CSV gradebook, Gradescope JSON, HTML feedback
- :mod:`~cnncourse.grading.status`: every status, one enum; :mod:`~cnncourse.grading.atomic`:
  atomic file writes
- :mod:`~cnncourse.grading.gradescope`: a Gradescope autograder zip, and its grading step

Importing this package imports nothing heavy: kernels' test cells import ``checks``.
See ``docs/grading.md`` for the instructor's workflow.
"""
