"""Backup and restore (备份与恢复): `flask tipoff backup`, `flask tipoff restore`.

`services` writes and verifies archives, `restore` loads one into a fresh data dir and database,
`archive` is the encrypted container, `tables` the portable dump of every table.
"""
