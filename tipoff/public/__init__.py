"""Public pages (公众页面): home, language choice."""
