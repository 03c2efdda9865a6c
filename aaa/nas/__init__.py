"""NAS registry: the concentrators allowed to talk RADIUS to us."""
