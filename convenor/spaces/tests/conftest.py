"""The spaces tests use the `lounge` and `acme_space` fixtures from the project's conftest.py."""
