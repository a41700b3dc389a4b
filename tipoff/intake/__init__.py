"""Public intake (公众举报): the form and API where tips arrive, the receipt, the reporter channel."""
