"""`make bench`: how close each hot path runs to what this stack can do on this box.

Every API figure is set beside two ceilings measured in the same run on the same data:
pgbench running the endpoint's own SQL (the database's limit) and a bare Litestar probe
running the same queries without auth, middleware or error layer (the stack's limit).
"""
