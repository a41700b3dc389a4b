"""The audit log (审计日志): append-only, hash-chained, verified by `flask tipoff audit verify`."""
