"""Helpers shared by the test folders (tests/ is on sys.path: ``from helpers.pki import ...``).

- ``pages``: rendered test pages with known words, and the ``tesseract`` command as oracle.
- ``pki``: an openssl/cryptography-made PKI, .p12 files and loopback TLS servers.
- ``rss``: resident memory of this process, now and at its peak.
- ``valgrind``: run a workload under valgrind and keep the reports that concern us.
"""
