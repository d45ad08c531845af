"""Maintenance scripts (data sets, calibration, training helpers); a package so that
scripts, tests and benchmarks import one another's code (``from scripts import realdocs``)."""
