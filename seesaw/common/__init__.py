"""Plumbing shared by every component: paths, logging, gRPC helpers, clocks.

Nothing here knows about load balancing.
"""
