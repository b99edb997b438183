"""The community charter: promotional-content detection (see docs/charter.md)."""
