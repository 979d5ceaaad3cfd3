"""Shared runtime of every service: logging, tracing, auth, server bootstrap, clients."""
