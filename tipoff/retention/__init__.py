"""Retention (保存期限): closed cases' evidence and reporter identities are destroyed after set periods.

Crypto-shredding: a tip's data key is destroyed, so its description, evidence files, messages and notes
can never be read again (the files are deleted too); sealed identities, bank details of a reward claim
and the phone/ID blind indexes are removed. The anonymised case record and the audit chain stay. An
`overseer` (区安委会办公室) may set a legal hold (法律保全) that stops it.

`policy` is the pure core (what is due), `services` gathers facts and destroys, `cli` is
`flask tipoff retention [--dry-run]`, `views` the legal hold.
"""
