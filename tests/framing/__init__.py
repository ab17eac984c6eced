"""Tests of tightbind.framing, one file per module.

A package, so that this folder's conftest.py and test_processor.py do not collide with
tests/conftest.py and tests/protobufp/test_processor.py (pytest imports files outside
packages by their bare names).  tests/protobufp/ stays a plain folder: as a package it
would shadow the real ``protobufp`` it tests.
"""
