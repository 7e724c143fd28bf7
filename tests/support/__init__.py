"""Inputs the tests and the benchmarks make on the spot: generated invoices, synthesized speech.

Under tests/ so that nothing here ships in the wheel; bench/ imports it from here.
"""
