"""Tests of the edge agent; they run on Python 3.11 too."""
