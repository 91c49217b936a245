"""kravsync: credit control for Nordic SMBs."""
