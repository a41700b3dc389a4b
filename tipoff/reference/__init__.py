"""Reference data (参考数据): departments, townships, sectors, categories and the default routing table."""
