"""The staff home (工作台) and platform pages that belong to no single feature."""
