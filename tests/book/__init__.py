"""Tests of the built book: self-contained pages, notebooks, nbval, a real browser."""
