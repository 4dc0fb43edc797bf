"""The book in other formats, made from the chapters that ``make book`` executed: a
reveal.js deck per chapter (:mod:`.slides`) and one printable PDF (:mod:`.pdf`).

Both read the runs of the chapters that the build keeps in Jupyter Book's execution cache
(:mod:`.execute` makes them, :mod:`.executed` reads them), so no chapter runs a second time.
"""
