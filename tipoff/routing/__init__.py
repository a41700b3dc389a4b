"""Routing (分办): which department accepts a tip (谁受理) and who is told in copy."""
