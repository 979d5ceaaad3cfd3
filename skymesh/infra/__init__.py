"""Starts and stops the real infrastructure and services of the mesh as local processes."""
