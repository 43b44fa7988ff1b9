"""Tests of the shared protocol package; they run on Python 3.11 too."""
