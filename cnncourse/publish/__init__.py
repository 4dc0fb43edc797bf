"""The book in other formats, made from the chapters that ``make book`` executed: a
reveal.js deck per chapter (:mod:`.slides`) and one printable PDF (:mod:`.pdf`).

Both read the executed notebooks the build leaves in ``book/_build/jupyter_execute``
(:mod:`.executed`), so no chapter runs a second time.
"""
