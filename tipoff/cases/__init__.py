"""Cases (案件办理): the workflow a tip follows inside the accepting department."""
