"""Change feed: how a committed change reaches every worker's cache.

Every change that affects what RADIUS answers writes a ``change_event`` row in the same
transaction (so it cannot be lost or arrive before the data). Workers poll the feed; with
Redis configured the same events are also published after commit, so they arrive in
milliseconds and the poll becomes a safety net.
"""
