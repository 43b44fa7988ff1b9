"""Tests of the access-control engine."""
