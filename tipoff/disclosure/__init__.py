"""Identity disclosure (身份信息调阅): the only way a reporter's identity is ever opened."""
