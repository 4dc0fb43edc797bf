"""Headless tests of cnncourse.widgets: set control values, assert what was computed."""
