"""Staff accounts (工作人员账户): passwords, TOTP second factor, sessions, API tokens."""
