"""Tests of cnncourse.grading and the cnncourse command."""
